using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Remediations;
using ProvisioningFleet.Core.Probing;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Telemetry;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Devices;
using ProvisioningFleet.Data.Policy;
using ProvisioningFleet.Data.Remediations;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Api.Sweeps;

/// <summary>
/// Runs one shard: probes its devices concurrently (bounded), remediates the Overdue ones under the
/// policy, and writes verdicts, counters and "processed" marks a batch at a time in one transaction.
/// A re-run skips what was written; a device fixed before a crash has its record, so it is counted and
/// never fixed again.
/// </summary>
public sealed class SweepShardRunner(
    IDbContextFactory<FleetDbContext> contexts,
    DeviceProbing probing,
    RemediationRunner remediations,
    SweepFinisher finisher,
    TimeProvider time,
    IOptions<EngineOptions> options,
    ILogger<SweepShardRunner> logger)
{
    private sealed record DeviceOutcome(long DeviceId, DeviceState ProbedState, Verdict ToStore, RemediationOutcome? Remediation, int RoundTrips);

    /// <summary>
    /// Processes the shard's remaining devices (none once the sweep is cancelled), then completes the shard;
    /// the last shard to complete finishes the sweep. A shard already complete returns at once; one stopped
    /// by <paramref name="shutdown"/> is left for the job's retry.
    /// </summary>
    public async Task RunAsync(long sweepId, int shardIndex, CancellationToken shutdown)
    {
        // Every log line and span of the shard, down to each device's probe and fix, carries the sweep.
        using var activity = FleetTelemetry.ActivitySource.StartActivity("fleet.sweep.shard");
        activity?.SetTag("fleet.sweep.id", sweepId);
        activity?.SetTag("fleet.sweep.shard", shardIndex);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["SweepId"] = sweepId, ["Shard"] = shardIndex });
        var settings = options.Value;
        Sweep? sweep;
        SweepShard? shard;
        FleetPolicy policy;
        List<Device> devices;
        HashSet<long> interrupted;
        await using (var db = await contexts.CreateDbContextAsync(shutdown))
        {
            sweep = await db.Sweeps.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sweepId, shutdown);
            shard = await db.Set<SweepShard>().AsNoTracking().SingleOrDefaultAsync(s => s.SweepId == sweepId && s.Index == shardIndex, shutdown);
            if (sweep is null || shard is null || shard.CompletedAt is not null)
            {
                return;
            }

            policy = await db.Policies.AsNoTracking().SingleAsync(shutdown);
            var remaining = shard.DeviceIds.Except(shard.ProcessedDeviceIds).ToArray();
            // With identity resolution the devices sharing a credential share its instance, which the vault decrypts once.
            devices = sweep.Status == SweepStatus.Running && !sweep.CancelRequested
                ? await db.Devices.AsNoTrackingWithIdentityResolution().Include(d => d.Credential).Where(d => remaining.Contains(d.Id)).OrderBy(d => d.Id).ToListAsync(shutdown)
                : [];
            // Fixes of this sweep that a crashed run left InProgress: closed when their device comes round again,
            // whatever it is found in (a fix that took leaves it Healthy).
            interrupted = await db.Remediations.AsNoTracking()
                .Where(r => r.SweepId == sweepId && r.Outcome == RemediationOutcome.InProgress && remaining.Contains(r.DeviceId))
                .Select(r => r.DeviceId)
                .ToHashSetAsync(shutdown);
        }

        var verdictPolicy = new VerdictPolicy(policy.RemediateAfterMinutes, policy.GraceMinutes);
        var context = new RemediationContext(RemediationTrigger.Sweep, sweep.RequestedBy, sweepId, null,
            new RemediationRequest(DryRun: sweep.DryRun), new RemediationPolicy(policy.TriggerPolicyRetrieval));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        var outcomes = Channel.CreateUnbounded<DeviceOutcome>(new UnboundedChannelOptions { SingleReader = true });
        var writer = Task.Run(() => WriteAsync(sweepId, shardIndex, outcomes.Reader, stop), CancellationToken.None);
        try
        {
            await Parallel.ForEachAsync(devices, new ParallelOptions { MaxDegreeOfParallelism = settings.ProbeConcurrency, CancellationToken = stop.Token },
                async (device, token) => await outcomes.Writer.WriteAsync(await ProcessAsync(device, token), CancellationToken.None));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !shutdown.IsCancellationRequested)
        {
            logger.LogInformation("Sweep {SweepId} shard {Shard}: stopped early (cancelled or a write failed)", sweepId, shardIndex);
        }
        finally
        {
            outcomes.Writer.Complete();
        }

        await writer;
        shutdown.ThrowIfCancellationRequested();
        await CompleteAsync(sweepId, shardIndex, null);

        async Task<DeviceOutcome> ProcessAsync(Device device, CancellationToken token)
        {
            using var deviceScope = logger.BeginScope(new Dictionary<string, object> { ["DeviceId"] = device.Id, ["HostName"] = device.HostName });
            try
            {
                return await ProbeAndFixAsync(device, token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One device's failure (a lost database connection while recording its fix, say) never stops the shard.
                logger.LogError(e, "Sweep {SweepId}: device {HostName} could not be processed", sweepId, device.HostName);
                var failed = new Verdict
                {
                    State = DeviceState.Error,
                    CheckedAt = time.GetUtcNow(),
                    ProvisioningFirstSeenAt = device.FirstSeenInProvisioningAt,
                    Error = new ProbeError(CimErrorCategory.Fault, $"The service failed while processing this device: {e.GetType().Name}: {e.Message}", null),
                };
                return new DeviceOutcome(device.Id, DeviceState.Error, failed, null, 0);
            }
        }

        async Task<DeviceOutcome> ProbeAndFixAsync(Device device, CancellationToken token)
        {
            var verdict = await probing.ProbeAsync(device, device.Credential, verdictPolicy, token);
            if (!policy.AutoRemediate || verdict.State != DeviceState.Overdue)
            {
                var closed = interrupted.Contains(device.Id) ? await CloseInterruptedAsync(device.Id, shutdown) : null;
                return new DeviceOutcome(device.Id, verdict.State, verdict, closed, verdict.RoundTrips);
            }

            // From here on only the host's shutdown stops the work: a fix once begun is finished and recorded.
            var (outcome, after, roundTrips) = await RemediateAsync(device, verdict, shutdown);
            return new DeviceOutcome(device.Id, verdict.State, after ?? verdict, outcome, verdict.RoundTrips + roundTrips);
        }

        async Task<(RemediationOutcome? Outcome, Verdict? After, int RoundTrips)> RemediateAsync(Device device, Verdict verdict, CancellationToken token)
        {
            await using var db = await contexts.CreateDbContextAsync(token);
            if (await RecordOfThisSweepAsync(db, device.Id, token) is { } existing)
            {
                return (await CountExistingAsync(existing, token), null, 0);
            }

            if (RemediationPolicy.Evaluate(verdict, device.RemediationExcluded, context.Request) is { } reason)
            {
                return (await OutcomeOfAsync(await remediations.RecordSkippedAsync(device, verdict, context, reason, token), token), null, 0);
            }

            if (!await SweepLedger.TryClaimRemediationAsync(db, sweepId, token))
            {
                return (await OutcomeOfAsync(await remediations.RecordSkippedAsync(device, verdict, context, RemediationSkipReason.BlastRadius, token), token), null, 0);
            }

            var attempt = await remediations.RemediateAsync(device, device.Credential, verdict, context, null, token);
            var roundTrips = (attempt as RemediationAttempt.Finished)?.RoundTrips ?? 0;
            var touched = attempt is RemediationAttempt.Finished { Record.Outcome: not RemediationOutcome.Skipped };
            if (!touched)
            {
                await SweepLedger.ReleaseRemediationAsync(db, sweepId, CancellationToken.None);
            }

            if (attempt is RemediationAttempt.Locked)
            {
                attempt = await remediations.RecordSkippedAsync(device, verdict, context, RemediationSkipReason.Locked, token);
            }

            return (await OutcomeOfAsync(attempt, token), (attempt as RemediationAttempt.Finished)?.VerdictAfter, roundTrips);
        }

        async Task<RemediationOutcome?> OutcomeOfAsync(RemediationAttempt attempt, CancellationToken token) => attempt switch
        {
            RemediationAttempt.Finished finished => finished.Record.Outcome,
            RemediationAttempt.AlreadyRecorded recorded => await CountExistingAsync(recorded.Record, token),
            _ => null,
        };

        async Task<RemediationOutcome?> CloseInterruptedAsync(long deviceId, CancellationToken token)
        {
            await using var db = await contexts.CreateDbContextAsync(token);
            return await RecordOfThisSweepAsync(db, deviceId, token) is { } existing ? await CountExistingAsync(existing, token) : null;
        }

        Task<Remediation?> RecordOfThisSweepAsync(FleetDbContext db, long deviceId, CancellationToken token) =>
            db.Remediations.AsNoTracking().SingleOrDefaultAsync(r => r.SweepId == sweepId && r.DeviceId == deviceId, token);

        // A record of this sweep from a run that crashed: InProgress means the worker died mid-fix.
        async Task<RemediationOutcome?> CountExistingAsync(Remediation existing, CancellationToken token)
        {
            if (existing.Outcome != RemediationOutcome.InProgress)
            {
                return existing.Outcome;
            }

            return await remediations.ReconcileAsync(existing.Id, token)
                ?? await remediations.ReadOutcomeAsync(existing.Id, token);
        }
    }

    /// <summary>Marks the shard done and, when it was the last, finishes the sweep.</summary>
    public async Task CompleteAsync(long sweepId, int shardIndex, string? error)
    {
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        if (await SweepLedger.CompleteShardAsync(db, sweepId, shardIndex, time.GetUtcNow(), error, CancellationToken.None))
        {
            await finisher.FinishAsync(sweepId, CancellationToken.None);
        }
    }

    /// <summary>The single writer of the shard: batches by size or age, one transaction per batch.</summary>
    private async Task WriteAsync(long sweepId, int shardIndex, ChannelReader<DeviceOutcome> reader, CancellationTokenSource stop)
    {
        var settings = options.Value;
        var batch = new List<DeviceOutcome>(settings.RecordBatchSize);
        try
        {
            var more = reader.WaitToReadAsync().AsTask();
            while (true)
            {
                var tick = Task.Delay(settings.RecordInterval, time);
                while (batch.Count < settings.RecordBatchSize && await Task.WhenAny(more, tick) == more)
                {
                    if (!await more)
                    {
                        await FlushAsync(sweepId, shardIndex, batch, stop);
                        return;
                    }

                    while (batch.Count < settings.RecordBatchSize && reader.TryRead(out var outcome))
                    {
                        batch.Add(outcome);
                    }

                    more = reader.WaitToReadAsync().AsTask();
                }

                await FlushAsync(sweepId, shardIndex, batch, stop);
            }
        }
        catch (Exception e)
        {
            // Nothing more can be recorded: stop probing; the job fails and its re-run picks up what was not written.
            logger.LogError(e, "Sweep {SweepId} shard {Shard}: writing results failed", sweepId, shardIndex);
            await stop.CancelAsync();
            throw;
        }
    }

    private async Task FlushAsync(long sweepId, int shardIndex, List<DeviceOutcome> batch, CancellationTokenSource stop)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var tally = new SweepTally { Probed = batch.Count, RoundTrips = batch.Sum(o => (long)o.RoundTrips) };
        foreach (var outcome in batch)
        {
            var state = outcome.ProbedState.ToString();
            tally.ByState[state] = tally.ByState.GetValueOrDefault(state) + 1;
            switch (outcome.Remediation)
            {
                case RemediationOutcome.Remediated: tally.Remediated++; break;
                case RemediationOutcome.Failed: tally.RemediationsFailed++; break;
                case RemediationOutcome.Skipped: tally.Skipped++; break;
                case RemediationOutcome.DryRun: tally.WouldRemediate++; break;
            }
        }

        // Written even while stopping: these devices were probed (and perhaps fixed); losing them would count them twice later.
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        await VerdictRecorder.RecordAsync(db, batch.Select(o => new DeviceVerdict(o.DeviceId, o.ToStore)).ToList(), sweepId, CancellationToken.None);
        var cancelRequested = await SweepLedger.AddAsync(db, sweepId, shardIndex, tally, batch.Select(o => o.DeviceId).ToArray(), CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        batch.Clear();
        if (cancelRequested && !stop.IsCancellationRequested)
        {
            await stop.CancelAsync();
        }
    }
}
