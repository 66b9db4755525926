using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Core.Probing;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Telemetry;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.Devices;
using ProvisioningFleet.Data.Notifications;
using ProvisioningFleet.Data.Remediations;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Api.Remediations;

/// <summary>Who asked for a fix and in what frame: a sweep (with its id) or a person.</summary>
public sealed record RemediationContext(RemediationTrigger Trigger, string Actor, long? SweepId, string? Justification, RemediationRequest Request, RemediationPolicy Policy);

/// <summary>How an attempt to remediate ended for the caller.</summary>
public abstract record RemediationAttempt
{
    /// <summary>The record is written and final (Remediated, Failed, Skipped or DryRun).</summary>
    public sealed record Finished(Remediation Record, Verdict? VerdictAfter, int RoundTrips = 0) : RemediationAttempt;

    /// <summary>Another remediation of the device is under way (on this or another instance).</summary>
    public sealed record Locked(Remediation Holder) : RemediationAttempt;

    /// <summary>This sweep already has a record for the device: a re-run after a crash, never a second fix.</summary>
    public sealed record AlreadyRecorded(Remediation Record) : RemediationAttempt;
}

/// <summary>
/// Runs one remediation under the database's guarantees: the record is written InProgress before the
/// first remote call, and the unique indexes on it make "one fix of a device at a time, on any
/// instance" and "one record per device per sweep" hold however many workers race.
/// </summary>
public sealed class RemediationRunner(
    IDbContextFactory<FleetDbContext> contexts,
    DeviceProbing probing,
    Remediator remediator,
    FleetTelemetry telemetry,
    TimeProvider time,
    IOptions<EngineOptions> options,
    ILogger<RemediationRunner> logger)
{
    /// <summary>Writes a final Skipped record (the device is reported, not touched).</summary>
    public async Task<RemediationAttempt> RecordSkippedAsync(Device device, Verdict verdict, RemediationContext context, RemediationSkipReason reason, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var record = NewRecord(device, verdict, context, now);
        record.Outcome = RemediationOutcome.Skipped;
        record.SkipReason = reason;
        record.FinishedAt = now;
        var conflict = await InsertAsync(db, device.Id, record, cancellationToken);
        if (conflict is not null)
        {
            return conflict;
        }

        telemetry.RemediationFinished(record.Outcome.ToString());
        return new RemediationAttempt.Finished(record, null);
    }

    /// <summary>
    /// Takes the device's lock (an InProgress record), runs the fix (or the dry run) and finishes the
    /// record. <paramref name="beforeInsert"/> adds what must commit with the InProgress record (the audit entry of an override).
    /// </summary>
    public async Task<RemediationAttempt> RemediateAsync(
        Device device, Credential? credential, Verdict verdict, RemediationContext context, Action<FleetDbContext>? beforeInsert, CancellationToken cancellationToken)
    {
        using var activity = FleetTelemetry.StartDeviceActivity("fleet.remediate", device.Id, device.HostName);
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["DeviceId"] = device.Id, ["HostName"] = device.HostName, ["SweepId"] = context.SweepId });
        var record = NewRecord(device, verdict, context, time.GetUtcNow());
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            beforeInsert?.Invoke(db);
            var conflict = await InsertAsync(db, device.Id, record, cancellationToken);
            if (conflict is not null)
            {
                return conflict;
            }
        }

        RemediationResult result;
        try
        {
            await using var session = probing.Open(device, credential);
            result = await remediator.RemediateAsync(session, verdict, context.Request, context.Policy, cancellationToken, RecordFixSentAsync);
        }
        catch (CimException e)
        {
            result = new RemediationResult { Outcome = RemediationOutcome.Failed, Error = ProbeError.From(e) };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Shutting down (cancellation) is the one exit that leaves the record InProgress, as the trace of an interrupted fix.
            result = new RemediationResult
            {
                Outcome = RemediationOutcome.Failed,
                Error = new ProbeError(CimErrorCategory.Fault, $"The session to {device.HostName} failed inside the service: {e.GetType().Name}: {e.Message}", null),
            };
        }

        async Task RecordFixSentAsync(CancellationToken token)
        {
            await using var db = await contexts.CreateDbContextAsync(token);
            await db.Remediations.Where(r => r.Id == record.Id).ExecuteUpdateAsync(set => set.SetProperty(r => r.FixSent, true), token);
        }

        var finishedAt = time.GetUtcNow();
        record.Outcome = result.Outcome;
        record.SkipReason = result.SkipReason;
        record.Verified = result.Verified;
        record.FixSent = result.FixSent;
        record.FinishedAt = finishedAt;
        record.ErrorCategory = result.Error?.Category;
        record.ErrorMessage = FleetLimits.Truncate(result.Error?.Message, FleetLimits.ErrorMessage);
        record.ErrorCode = result.Error?.Code;
        record.SystemTaskExcludesAfter = FleetLimits.Truncate(result.SystemTaskExcludesAfter, FleetLimits.SystemTaskExcludes);
        if (result.ScheduleTriggers.Count > 0)
        {
            record.PolicyRetrievalTriggered = result.ScheduleTriggers.All(t => t.Succeeded);
            record.PolicyRetrievalError = FleetLimits.Truncate(
                string.Join("; ", result.ScheduleTriggers.Where(t => t.Error is not null).Select(t => $"TriggerSchedule {t.ScheduleId}: {t.Error!.Message}")) is { Length: > 0 } errors ? errors : null,
                FleetLimits.ErrorMessage);
        }

        // Not cancellable: the device has been touched, and the record must say so.
        await using (var db = await contexts.CreateDbContextAsync(CancellationToken.None))
        {
            db.Remediations.Update(record);
            NotificationOutbox.AddRemediationFinished(db, record);
            await db.SaveChangesAsync(CancellationToken.None);
        }

        telemetry.RemediationFinished(record.Outcome.ToString());
        activity?.SetTag("fleet.remediation.outcome", record.Outcome.ToString());
        if (record.ErrorMessage is not null)
        {
            logger.LogWarning("Remediation {RemediationId} of {HostName}: {Outcome}: {Error}", record.Id, device.HostName, record.Outcome, record.ErrorMessage);
        }
        else if (record.SkipReason is not null)
        {
            logger.LogInformation("Remediation {RemediationId} of {HostName}: {Outcome} ({SkipReason})", record.Id, device.HostName, record.Outcome, record.SkipReason);
        }
        else
        {
            logger.LogInformation("Remediation {RemediationId} of {HostName}: {Outcome}", record.Id, device.HostName, record.Outcome);
        }
        return new RemediationAttempt.Finished(record, result.Outcome == RemediationOutcome.Remediated ? verdict.AfterVerifiedFix(finishedAt) : null, result.RoundTrips);
    }

    private static Remediation NewRecord(Device device, Verdict verdict, RemediationContext context, DateTimeOffset now) => new()
    {
        DeviceId = device.Id,
        HostName = device.HostName,
        Trigger = context.Trigger,
        Actor = context.Actor,
        SweepId = context.SweepId,
        RequestedAt = now,
        Outcome = RemediationOutcome.InProgress,
        Justification = context.Justification,
        Override = context.Request.Override,
        IgnoreTaskSequence = context.Request.IgnoreTaskSequence,
        ClientId = verdict.ClientId,
        SystemTaskExcludesBefore = FleetLimits.Truncate(verdict.SystemTaskExcludes, FleetLimits.SystemTaskExcludes),
    };

    /// <summary>
    /// Inserts the record and points the device at it, in one transaction. Returns null when written,
    /// else why not. An InProgress record left by a crash (older than any fix can take) is closed as
    /// Failed first, so that one crash cannot lock a device for good.
    /// </summary>
    private async Task<RemediationAttempt?> InsertAsync(FleetDbContext db, long deviceId, Remediation record, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            db.Remediations.Add(record);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                await db.Devices.Where(d => d.Id == deviceId)
                    .ExecuteUpdateAsync(set => set.SetProperty(d => d.LastRemediationId, record.Id), cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return null;
            }
            catch (DbUpdateException e) when (e.IsUniqueViolation(out var unique))
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
                record.Id = 0;
                if (unique.ConstraintName != Remediation.OneInProgressIndex && record.SweepId is { } sweepId)
                {
                    var existing = await db.Remediations.AsNoTracking().SingleAsync(r => r.SweepId == sweepId && r.DeviceId == deviceId, cancellationToken);
                    return new RemediationAttempt.AlreadyRecorded(existing);
                }

                var holder = await db.Remediations.AsNoTracking()
                    .SingleOrDefaultAsync(r => r.DeviceId == deviceId && r.Outcome == RemediationOutcome.InProgress, cancellationToken);
                if (holder is null && attempt < 2)
                {
                    continue;
                }

                if (holder is not null && attempt < 2 && IsStale(holder))
                {
                    await ReconcileAsync(holder.Id, cancellationToken);
                    continue;
                }

                return holder is null ? throw new InvalidOperationException($"Device {deviceId} stays locked without a holder.", e) : new RemediationAttempt.Locked(holder);
            }
        }
    }

    public async Task<RemediationOutcome?> ReadOutcomeAsync(long remediationId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Remediations.Where(r => r.Id == remediationId).Select(r => (RemediationOutcome?)r.Outcome).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>Whether an InProgress record is older than any live fix can be: its worker is gone (a crash, a lost database).</summary>
    public bool IsStale(Remediation record) => record.RequestedAt < time.GetUtcNow() - options.Value.StaleRemediationAfter;

    /// <summary>
    /// The one rule for an InProgress record whose worker is gone, on every path (start-up and periodic
    /// reconciliation, a sweep's re-run, a manual remediate): re-read the device's provisioning mode and
    /// close the record as Remediated (verified: the fix was sent and the client is out) or Failed with the
    /// reason. The update only applies while the record is still InProgress, so a live worker or another
    /// replica finishing first always wins. Returns the outcome written, or null when it had already finished.
    /// </summary>
    public async Task<RemediationOutcome?> ReconcileAsync(long remediationId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.Remediations.AsNoTracking().SingleOrDefaultAsync(r => r.Id == remediationId && r.Outcome == RemediationOutcome.InProgress, cancellationToken);
        if (record is null)
        {
            return null;
        }

        var device = await db.Devices.AsNoTracking().Include(d => d.Credential).SingleOrDefaultAsync(d => d.Id == record.DeviceId, cancellationToken);
        var sent = record.FixSent ? "the fix had been sent" : "the fix had not been sent";
        ProvisioningModeReading? reading = null;
        string? readError = null;
        if (device is not null)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(options.Value.ProbeTimeout);
            try
            {
                await using var session = probing.Open(device, device.Credential);
                reading = await ConfigMgrClient.ReadProvisioningModeAsync(session, deadline.Token);
            }
            catch (CimException e)
            {
                readError = $"{e.Category}: {e.Message}";
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                readError = $"Timeout: no answer within {options.Value.ProbeTimeout.TotalSeconds:0.#} s";
            }
        }

        var (outcome, verified, message) = reading switch
        {
            { InProvisioningMode: false } when record.FixSent => (RemediationOutcome.Remediated, true, (string?)null),
            { InProvisioningMode: false } => (RemediationOutcome.Failed, false, $"Interrupted: the service stopped before the fix was sent; the client has since left provisioning mode without it."),
            { InProvisioningMode: true } => (RemediationOutcome.Failed, false, $"Interrupted: the service stopped during this remediation ({sent}); the client is still in provisioning mode, the next sweep tries again."),
            null when device is null => (RemediationOutcome.Failed, false, $"Interrupted: the service stopped during this remediation ({sent}); the device has since been deleted."),
            _ => (RemediationOutcome.Failed, false, $"Interrupted: the service stopped during this remediation ({sent}); re-reading the device failed ({readError})."),
        };
        // The close and its notification event commit together, so a crash cannot lose the event (the outbox rule).
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var finishedAt = time.GetUtcNow();
        var errorMessage = FleetLimits.Truncate(message, FleetLimits.ErrorMessage);
        var errorCategory = outcome == RemediationOutcome.Failed ? CimErrorCategory.Timeout : (CimErrorCategory?)null;
        var closed = await db.Remediations
            .Where(r => r.Id == remediationId && r.Outcome == RemediationOutcome.InProgress)
            .ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Outcome, outcome)
                .SetProperty(r => r.Verified, verified)
                .SetProperty(r => r.FinishedAt, finishedAt)
                .SetProperty(r => r.ErrorCategory, errorCategory)
                .SetProperty(r => r.ErrorMessage, errorMessage),
                cancellationToken);
        if (closed == 0)
        {
            return null;
        }

        record.Outcome = outcome;
        record.Verified = verified;
        record.FinishedAt = finishedAt;
        record.ErrorCategory = errorCategory;
        record.ErrorMessage = errorMessage;
        NotificationOutbox.AddRemediationFinished(db, record);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        logger.LogWarning("Reconciled interrupted remediation {RemediationId} of {HostName} as {Outcome}", remediationId, record.HostName, outcome);
        telemetry.RemediationFinished(outcome.ToString());
        return outcome;
    }
}
