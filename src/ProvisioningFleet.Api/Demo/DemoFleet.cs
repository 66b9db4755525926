using System.Security.Claims;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Simulator.Scenarios;

namespace ProvisioningFleet.Api.Demo;

/// <summary>
/// Runs the simulated fleet beside the service, puts it in the inventory and starts a first sweep, so
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
    private SimulatedFleetHost? _simulator;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        _simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            Users = [new SimulatedUser("fleet", password)],
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

        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
            await SaveCredentialAsync(db, scope.ServiceProvider.GetRequiredService<CredentialVault>(), password, stoppingToken);
            var rows = devices.Select(d => new DeviceInput(
                d.HostName, _simulator.EndpointFor(d.HostName).ToString(), "Http", "Basic", CredentialName, d.Tags.ToArray(), true, false)).ToList();
            var errors = new ValidationErrors();
            var result = await scope.ServiceProvider.GetRequiredService<DeviceImporter>()
                .ImportAsync(rows, new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, Actor)], Actor)), errors, stoppingToken);
            if (result is null)
            {
                logger.LogError("Demo fleet not imported: {Errors}", string.Join("; ", errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
                return;
            }

            logger.LogInformation("Demo fleet: {Devices} simulated devices at {Simulator} ({Created} added, {Updated} updated)",
                devices.Count, _simulator.HttpBaseAddress, result.Created, result.Updated);
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

    private async Task SaveCredentialAsync(FleetDbContext db, CredentialVault vault, string password, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // The simulator's password is new each run; the stored one is rotated to match.
        var credential = await db.Credentials.SingleOrDefaultAsync(c => c.Name == CredentialName, cancellationToken);
        if (credential is null)
        {
            credential = new Credential { Name = CredentialName, UserName = "fleet" };
            db.Credentials.Add(credential);
        }

        credential.ProtectedPassword = vault.Protect(password);
        credential.UpdatedAt = now;
        if (credential.CreatedAt == default)
        {
            credential.CreatedAt = credential.UpdatedAt;
        }

        await db.SaveChangesAsync(cancellationToken);
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
