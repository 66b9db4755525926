using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.InventorySources;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.InventorySources;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Simulator.AdminService;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Simulator.Scenarios;

namespace ProvisioningFleet.Api.Demo;

/// <summary>
/// Runs the simulated fleet and its ConfigMgr site beside the service, follows the site with an inventory
/// source (synced once before anything else) and starts a first sweep, so
/// that a newcomer sees stuck clients found and fixed within a minute or two of starting.
/// </summary>
internal sealed class DemoFleet(
    DemoFleetOptions options,
    IServiceScopeFactory scopes,
    IServer server,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<DemoFleet> logger) : BackgroundService
{
    private const string CredentialName = "demo-simulator";
    private const string Actor = "demo";
    private const string SourceName = "demo-site";
    private const string SourceCron = "*/10 * * * *";
    private SimulatedFleetHost? _simulator;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        // New each run, like the password: gss-ntlmssp's user file is one per process and its first line for a name
        // wins, so two simulators in one process (tests) must not share an account name with different passwords.
        var userName = "fleet-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        _simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            HttpsPort = 0,
            Users = [new SimulatedUser(userName, password)],
            RecordReads = false,
            TimeProvider = time,
        }, stoppingToken);
        var devices = FleetScenario.Generate(new FleetMix
        {
            Devices = options.Devices,
            Overdue = 0.03,
            TsRunning = 0.01,
            Unreachable = 0.01,
            NoClient = 0.005,
            Provisioning = 0.02,
            AccessDenied = 0.002,
            Flaky = 0.002,
            Seed = 42,
        }, time);
        _simulator.Fleet.AddRange(devices);
        var impostors = SiteScenario.Populate(_simulator.Site, devices, seed: 42);

        // The fleet comes from the site, as in production: one inventory source following the simulator's AdminService.
        long sourceId;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
            var credentialId = await SaveCredentialAsync(db, scope.ServiceProvider.GetRequiredService<CredentialVault>(), userName, password, _simulator.HttpBaseAddress.Host, stoppingToken);
            sourceId = await SaveSourceAsync(db, credentialId, stoppingToken);
            scope.ServiceProvider.GetRequiredService<InventorySyncSchedule>().Apply(sourceId, SourceCron, enabled: true);
        }

        InventorySyncRun? run;
        await using (var scope = scopes.CreateAsyncScope())
        {
            run = await scope.ServiceProvider.GetRequiredService<InventorySync>()
                .RequestAsync(sourceId, InventorySyncTrigger.Manual, dryRun: false, Actor, stoppingToken);

            // The source's own schedule may have started a sync this very moment (a restart on a cron boundary): the
            // first sweep waits for that one instead, or it would sweep a fleet that is not there yet.
            run ??= await scope.ServiceProvider.GetRequiredService<FleetDbContext>().InventorySyncRuns.AsNoTracking().UnderWay(sourceId)
                .OrderByDescending(r => r.Id)
                .FirstOrDefaultAsync(stoppingToken);
        }

        if (run is not null)
        {
            run = await WaitForSyncAsync(run.Id, stoppingToken);
            logger.LogInformation(
                "Demo fleet: {Devices} simulated devices at {Simulator}; inventory source '{Source}' sync #{RunId} {Status}: {Created} created, " +
                "{Updated} updated, {Skipped} site records skipped (obsolete, duplicates, non-clients); {Impostors} names answer with another client",
                devices.Count, _simulator.HttpBaseAddress, SourceName, run.Id, run.Status, run.Created, run.Updated, run.Skipped.Count, impostors.Count);
        }

        await WaitForStartAsync(stoppingToken);
        await using (var scope = scopes.CreateAsyncScope())
        {
            var sweep = await scope.ServiceProvider.GetRequiredService<SweepJobs>()
                .RequestAsync(SweepTrigger.Manual, null, dryRun: false, Actor, stoppingToken);
            logger.LogInformation("Demo: first sweep #{SweepId} queued", sweep.Id);
        }

        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://127.0.0.1:5080";
        logger.LogInformation(
            "Demo ready: open {Address}/ui/overview.html (sign in at {Address}/signin with the Admin key in {KeyFile}); " +
            "the simulator's inspection API is at {Inspection}",
            address, address, options.AdminKeyFile ?? "FLEET_ADMIN_API_KEY", _simulator.InspectionBaseAddress);
    }

    private async Task<long> SaveCredentialAsync(
        FleetDbContext db, CredentialVault vault, string userName, string password, string simulatorHost, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // The simulator's account is new each run; the stored credential is rotated to match.
        var credential = await db.Credentials.SingleOrDefaultAsync(c => c.Name == CredentialName, cancellationToken);
        if (credential is null)
        {
            credential = new Credential { Name = CredentialName };
            db.Credentials.Add(credential);
        }

        credential.UserName = userName;
        // Every simulated device is reached through the simulator's own address, never under its own host name.
        credential.AllowedHosts = [simulatorHost];
        credential.ProtectedPassword = vault.Protect(password);
        credential.UpdatedAt = now;
        if (credential.CreatedAt == default)
        {
            credential.CreatedAt = credential.UpdatedAt;
        }

        await db.SaveChangesAsync(cancellationToken);
        return credential.Id;
    }

    /// <summary>The demo's source, pointed at this run's simulator (its ports and certificate are new each run).</summary>
    private async Task<long> SaveSourceAsync(FleetDbContext db, long credentialId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var source = await db.InventorySources.SingleOrDefaultAsync(s => s.Name == SourceName, cancellationToken);
        if (source is null)
        {
            source = new InventorySource { Name = SourceName, CreatedAt = now };
            db.InventorySources.Add(source);
        }

        source.AdminServiceUrl = _simulator!.AdminServiceUrl.ToString();
        source.CertificateSha256 = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(_simulator.HttpsCertificate!.RawData));
        source.CredentialId = credentialId;
        source.CollectionIds = [SiteScenario.Workstations];
        // The simulator serves every device under /wsman/{host}; Basic over plain HTTP is allowed in demo mode only.
        source.EndpointTemplate = new Uri(_simulator.HttpBaseAddress, "/wsman/") + InventorySourceRules.FqdnPlaceholder;
        source.Authentication = CimAuthentication.Basic;
        source.DeviceCredentialId = credentialId;
        source.Tags = ["demo"];
        source.SyncCron = SourceCron;
        source.OnRemoved = InventoryRemovalAction.Disable;
        source.Enabled = true;
        source.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return source.Id;
    }

    private async Task<InventorySyncRun> WaitForSyncAsync(long runId, CancellationToken cancellationToken)
    {
        while (true)
        {
            await using (var scope = scopes.CreateAsyncScope())
            {
                var run = await scope.ServiceProvider.GetRequiredService<FleetDbContext>().InventorySyncRuns.AsNoTracking()
                    .SingleAsync(r => r.Id == runId, cancellationToken);
                if (run.Status is InventorySyncStatus.Completed or InventorySyncStatus.Failed)
                {
                    return run;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
        }
    }

    private Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        return started.Task.WaitAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }
    }
}
