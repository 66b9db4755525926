using System.Diagnostics;
using System.Security.Cryptography;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Core.Cim.WsMan;
using ProvisioningFleet.Core.Inventory;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.InventorySources;
using ProvisioningFleet.WsMan;

namespace ProvisioningFleet.Api.InventorySources;

/// <summary>
/// Syncs a source: reads the followed collections and their members' device records from the site,
/// applies the selection rules, and writes the result in one transaction with the run's record. All
/// reading happens before the first write, so a site that fails halfway changes nothing; a dry run
/// is the same transaction rolled back. Hangfire runs it (job arguments: ids only, never a secret).
/// </summary>
public sealed class InventorySync(
    IDbContextFactory<FleetDbContext> contexts,
    CredentialVault vault,
    IBackgroundJobClient jobs,
    IAuditTrail audit,
    DeviceEndpointRules endpoints,
    IOptions<AdminServiceOptions> adminService,
    IOptions<WsManSessionSettings> winRm,
    TimeProvider time,
    ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<InventorySync>();

    /// <summary>
    /// A run still queued or running this long after it was requested lost its job (a crash between the
    /// run's record and its job, say); it no longer blocks the source. A sync of 100,000 members takes minutes.
    /// </summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(1);

    /// <summary>The bound on each statement of the write; the whole sync stays well inside <see cref="AbandonedAfter"/>.</summary>
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromMinutes(10);

    /// <summary>A queued run, or null when a sync of the source is already queued or running.</summary>
    public async Task<InventorySyncRun?> RequestAsync(long sourceId, InventorySyncTrigger trigger, bool dryRun, string actor, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var abandoned = time.GetUtcNow() - AbandonedAfter;
        await db.InventorySyncRuns
            .UnderWay(sourceId)
            .Where(r => r.RequestedAt < abandoned)
            .ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Status, InventorySyncStatus.Failed)
                .SetProperty(r => r.FinishedAt, time.GetUtcNow())
                .SetProperty(r => r.Error, $"Abandoned: still unfinished {AbandonedAfter.TotalMinutes:0} minutes after it was requested."), cancellationToken);
        // The unique index decides a race; looking first keeps the common case (a sync already under way, as after a
        // restart) out of EF Core's error log, which records every failed statement with its stack.
        if (await db.InventorySyncRuns.UnderWay(sourceId).AnyAsync(cancellationToken))
        {
            return null;
        }

        var run = new InventorySyncRun
        {
            SourceId = sourceId,
            Status = InventorySyncStatus.Queued,
            Trigger = trigger,
            DryRun = dryRun,
            RequestedBy = actor,
            RequestedAt = time.GetUtcNow(),
        };
        db.InventorySyncRuns.Add(run);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: InventorySyncRun.OneInProgressIndex })
        {
            return null;
        }

        jobs.Enqueue<InventorySync>(sync => sync.RunAsync(run.Id, CancellationToken.None));
        return run;
    }

    /// <summary>The recurring job of a source: a sync unless one is already under way.</summary>
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task ScheduledAsync(long sourceId, CancellationToken cancellationToken)
    {
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            if (!await db.InventorySources.AnyAsync(s => s.Id == sourceId && s.Enabled, cancellationToken))
            {
                return;
            }
        }

        if (await RequestAsync(sourceId, InventorySyncTrigger.Schedule, dryRun: false, "schedule", cancellationToken) is null)
        {
            _logger.LogInformation("Inventory source {SourceId}: scheduled sync skipped, one is already under way", sourceId);
        }
    }

    /// <summary>Runs a queued run (or, after a crash, a run left Running) to its end; a finished run is left alone.</summary>
    [AutomaticRetry(Attempts = 3)]
    public async Task RunAsync(long runId, CancellationToken cancellationToken)
    {
        InventorySyncRun? run;
        InventorySource? source;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            run = await db.InventorySyncRuns.SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
            if (run is null || run.Status is InventorySyncStatus.Completed or InventorySyncStatus.Failed)
            {
                return;
            }

            source = await db.InventorySources.AsNoTracking()
                .Include(s => s.Credential).Include(s => s.DeviceCredential)
                .SingleOrDefaultAsync(s => s.Id == run.SourceId, cancellationToken);
            run.Status = InventorySyncStatus.Running;
            run.StartedAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }

        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["InventorySourceId"] = run.SourceId, ["SyncRunId"] = runId });
        var watch = Stopwatch.StartNew();
        try
        {
            if (source is null)
            {
                throw new SyncFailed("The source was deleted before its sync ran.");
            }

            var plan = await ReadSiteAsync(source, cancellationToken);
            await WriteAsync(runId, source, plan, cancellationToken);
            _logger.LogInformation("Inventory source {Source}: sync #{RunId} done in {Elapsed} ms ({Seen} members, {Devices} devices, {Skipped} skipped)",
                source.Name, runId, watch.ElapsedMilliseconds, plan.Seen, plan.Devices.Count, plan.Skipped.Count);
        }
        catch (Exception e) when (e is SyncFailed or AdminServiceException)
        {
            _logger.LogWarning("Inventory source {SourceId}: sync #{RunId} failed: {Error}", run.SourceId, runId, e.Message);
            await FailAsync(runId, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogError(e, "Inventory source {SourceId}: sync #{RunId} failed", run.SourceId, runId);
            await FailAsync(runId, $"The sync failed inside the service: {e.GetType().Name}: {e.Message}");
        }
    }

    private sealed record SyncPlan(int Seen, IReadOnlyList<InventoryDevice> Devices, List<InventorySkip> Skipped);

    private sealed class SyncFailed(string message, Exception? inner = null) : Exception(message, inner);

    /// <summary>Everything read and decided before the first write.</summary>
    private async Task<SyncPlan> ReadSiteAsync(InventorySource source, CancellationToken cancellationToken)
    {
        var siteUrl = new Uri(source.AdminServiceUrl);
        if (endpoints.CredentialRefusal(source.Credential, InventorySourceRules.SiteUse(siteUrl)) is { } outOfScope)
        {
            throw new SyncFailed(outOfScope);
        }

        Core.Cim.CimCredential credential;
        try
        {
            credential = vault.Reveal(source.Credential!);
        }
        catch (CryptographicException e)
        {
            throw new SyncFailed($"The credential '{source.Credential!.Name}' cannot be decrypted with this key ring: {e.Message}", e);
        }

        var tls = source.CertificateSha256 is { } pinned
            ? new WsManTlsOptions { PinnedSha256Thumbprint = pinned }
            : WsManCimSessionFactory.TlsFrom(winRm.Value);
        using var client = new AdminServiceClient(siteUrl, credential, tls, adminService.Value, loggers.CreateLogger<AdminServiceClient>());

        var members = new List<CollectionMember>();
        foreach (var collection in source.CollectionIds)
        {
            members.AddRange(await client.ReadMembersAsync(collection, cancellationToken));
        }

        // Only records that can become devices need their DNS names.
        var named = members
            .Where(m => m.IsObsolete != true && m.IsDecommissioned != true && m.IsClient == true)
            .Select(m => m.ResourceId);
        var systems = await client.ReadSystemsAsync(named, cancellationToken);
        var (selected, skipped) = MemberSelection.Select(members, systems);

        var skips = skipped.Select(s => new InventorySkip(s.Name, s.ResourceId, s.Reason, s.Detail)).ToList();
        var credentials = new Dictionary<string, Credential>(StringComparer.Ordinal);
        if (source.DeviceCredential is { } deviceCredential)
        {
            credentials[deviceCredential.Name] = deviceCredential;
        }

        var devices = new List<InventoryDevice>(selected.Count);
        foreach (var member in selected)
        {
            var errors = new ValidationErrors();
            var device = DeviceRules.Validate(
                new DeviceInput(member.Fqdn, InventorySourceRules.EndpointFor(source.EndpointTemplate, member.Fqdn, member.Name), null,
                    source.Authentication.ToString(), source.DeviceCredential?.Name, source.Tags),
                "", errors, credentials, endpoints);
            if (device is null)
            {
                var problems = errors.ToDictionary();
                // Only a member whose name and endpoint passed meets the credential's scope rule; its refusal is a reason of its own.
                var reason = problems.Keys.SequenceEqual(["credential"]) ? InventorySkipReasons.OutsideCredentialScope : InventorySkipReasons.InvalidName;
                skips.Add(new InventorySkip(member.Name, member.ResourceId, reason, string.Join(" ", problems.SelectMany(e => e.Value))));
                continue;
            }

            devices.Add(new InventoryDevice(member.ResourceId, member.Name, device.HostName, device.Endpoint, device.Transport,
                device.Authentication, device.CredentialId, device.Tags, member.SmsId));
        }

        return new SyncPlan(members.Select(m => m.ResourceId).Distinct().Count(), devices, skips);
    }

    private async Task WriteAsync(long runId, InventorySource source, SyncPlan plan, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // One transaction writes every member; measured here: over 30 s (the default) for 100,000 on a busy 2-core machine.
        db.Database.SetCommandTimeout(WriteTimeout);
        var run = await db.InventorySyncRuns.SingleAsync(r => r.Id == runId, cancellationToken);
        var now = time.GetUtcNow();
        InventorySyncChanges changes;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            changes = await InventorySyncWriter.ApplyAsync(db, source.Id, source.OnRemoved, plan.Devices, run.RequestedBy, now, cancellationToken);
            Complete(run, plan, changes);
            if (run.DryRun)
            {
                // The same statements, undone: the counts are exactly what a real sync would do now.
                await transaction.RollbackAsync(cancellationToken);
            }
            else
            {
                audit.Record(db, run.RequestedBy, "inventory.sync", $"inventory-source:{source.Name}",
                    new { runId, changes.Created, changes.Updated, changes.Disabled, changes.Deleted, skipped = run.Skipped.Count });
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return;
            }
        }

        db.ChangeTracker.Clear();
        var dryRun = await db.InventorySyncRuns.SingleAsync(r => r.Id == runId, cancellationToken);
        Complete(dryRun, plan, changes);
        await db.SaveChangesAsync(cancellationToken);
    }

    private void Complete(InventorySyncRun run, SyncPlan plan, InventorySyncChanges changes)
    {
        run.Status = InventorySyncStatus.Completed;
        run.FinishedAt = time.GetUtcNow();
        run.Seen = plan.Seen;
        run.Created = changes.Created;
        run.Updated = changes.Updated;
        run.Disabled = changes.Disabled;
        run.Deleted = changes.Deleted;
        run.Skipped = [.. plan.Skipped, .. changes.Conflicts];
        run.Error = null;
    }

    private async Task FailAsync(long runId, string error)
    {
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        await db.InventorySyncRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(set => set
            .SetProperty(r => r.Status, InventorySyncStatus.Failed)
            .SetProperty(r => r.FinishedAt, time.GetUtcNow())
            .SetProperty(r => r.Error, error.Length <= 4000 ? error : error[..4000]), CancellationToken.None);
    }
}
