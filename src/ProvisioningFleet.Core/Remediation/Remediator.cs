using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Probing;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Remediation;

public sealed class RemediationOptions
{
    /// <summary>The deadline for one device's whole remediation: re-read, fix, verification, schedule triggers.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Re-reads of ProvisioningMode after the fix; the first follows the fix at once.</summary>
    public int VerifyAttempts { get; set; } = 5;

    public TimeSpan VerifyInterval { get; set; } = TimeSpan.FromSeconds(2.5);

    /// <summary>
    /// The limit for the fix call itself, inside <see cref="Timeout"/>: a call that runs out of it may still
    /// have taken effect, and the time left is for the verification that finds out.
    /// </summary>
    public TimeSpan FixCallTimeout { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>
/// Takes one client out of provisioning mode the supported way (SMS_Client.SetClientProvisioningMode),
/// after re-reading its mode, identity and task-sequence signals right before the fix, and proves it
/// by reading the mode again. The fix is sent at most once: the client restarts its own service when it
/// leaves provisioning mode, so the call may fault, time out or lose its connection after the change
/// took effect, and then the same verification decides. The caller has already applied
/// <see cref="RemediationPolicy.Evaluate"/> and holds the device's remediation lock.
/// </summary>
public sealed class Remediator(TimeProvider timeProvider, RemediationOptions options)
{
    public const string MachinePolicyRetrieval = "{00000000-0000-0000-0000-000000000021}";
    public const string MachinePolicyEvaluation = "{00000000-0000-0000-0000-000000000022}";

    // recordFixSent runs right before SetClientProvisioningMode goes out: the caller records "fix sent"
    // durably, so that a crash after the call can never leave a record saying nothing was sent. When it
    // throws, nothing is sent.
    public async Task<RemediationResult> RemediateAsync(
        ICimSession session, Verdict verdict, RemediationRequest request, RemediationPolicy policy, CancellationToken cancellationToken,
        Func<CancellationToken, Task>? recordFixSent = null)
    {
        var counting = new CountingSession(session);
        using var deadline = new CancellationTokenSource(options.Timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var fixSent = false;
        RemediationResult result;
        try
        {
            result = await RunAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            result = Failed(new ProbeError(CimErrorCategory.Timeout, $"The remediation did not finish within {options.Timeout.TotalSeconds:0.#} s.", null));
        }
        catch (CimException e)
        {
            result = Failed(ProbeError.From(e));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            result = Failed(new ProbeError(CimErrorCategory.Protocol, $"{e.GetType().Name}: {e.Message}", null));
        }

        return result with { RoundTrips = counting.Count };

        RemediationResult Failed(ProbeError error) => new() { Outcome = RemediationOutcome.Failed, FixSent = fixSent, Error = error };

        async Task<RemediationResult> RunAsync(CancellationToken ct)
        {
            // The verdict may be minutes old: the client may have left provisioning mode, a task sequence may have
            // started, or the name may now reach another machine. Check all three right before touching it.
            var mode = await ConfigMgrClient.ReadProvisioningModeAsync(counting, ct);
            if (!mode.KeyExists || !mode.InProvisioningMode)
            {
                return new RemediationResult { Outcome = RemediationOutcome.Skipped, SkipReason = RemediationSkipReason.NotOverdue };
            }

            var clientId = await ConfigMgrClient.ReadClientIdAsync(counting, ct);
            if (!string.Equals(clientId, verdict.ClientId, StringComparison.OrdinalIgnoreCase))
            {
                return new RemediationResult
                {
                    Outcome = RemediationOutcome.Skipped,
                    SkipReason = RemediationSkipReason.ClientChanged,
                    Error = new ProbeError(CimErrorCategory.Fault,
                        $"The client answering is '{clientId ?? "none"}', not '{verdict.ClientId ?? "none"}' that the verdict was made on.", null),
                };
            }

            if (!request.IgnoreTaskSequence && (await ConfigMgrClient.ReadTaskSequenceSignalsAsync(counting, ct)).Any(s => s.Holds))
            {
                return new RemediationResult { Outcome = RemediationOutcome.Skipped, SkipReason = RemediationSkipReason.TaskSequenceRunning };
            }

            if (request.DryRun)
            {
                return new RemediationResult { Outcome = RemediationOutcome.DryRun };
            }

            if (recordFixSent is not null)
            {
                await recordFixSent(ct);
            }

            fixSent = true;
            var callError = await SendFixAsync(ct);

            var verification = await VerifyAsync(ct);
            var excludesAfter = verification.Outcome == VerifyOutcome.KeyMissing ? null : await ReadExcludesQuietlyAsync(ct);
            if (verification.Outcome != VerifyOutcome.ReadsFalse)
            {
                var error = callError is not null
                    ? callError with { Message = $"{callError.Message} {verification.Reason}" }
                    : verification.Error ?? new ProbeError(CimErrorCategory.Fault, verification.Reason, null);
                return Failed(error) with { SystemTaskExcludesAfter = excludesAfter };
            }

            var triggers = new List<ScheduleTriggerResult>();
            if (policy.TriggerPolicyRetrieval)
            {
                triggers.Add(await TriggerScheduleAsync(MachinePolicyRetrieval, ct));
                triggers.Add(await TriggerScheduleAsync(MachinePolicyEvaluation, ct));
            }

            return new RemediationResult
            {
                Outcome = RemediationOutcome.Remediated,
                FixSent = true,
                Verified = true,
                ScheduleTriggers = triggers,
                SystemTaskExcludesAfter = excludesAfter,
            };
        }

        // The one fix call. Its failure is returned, not thrown: the change may have taken effect before the
        // answer was lost, so only the re-read can say. Microsoft documents the method as reserved and its
        // ReturnValue is unconfirmed: a non-fault answer is accepted and the re-read is the proof.
        async Task<ProbeError?> SendFixAsync(CancellationToken ct)
        {
            using var callDeadline = new CancellationTokenSource(options.FixCallTimeout, timeProvider);
            using var call = CancellationTokenSource.CreateLinkedTokenSource(ct, callDeadline.Token);
            try
            {
                await counting.InvokeAsync(ConfigMgrClient.ClientNamespace, "SMS_Client", "SetClientProvisioningMode",
                    [CimParameter.Of("bEnable", false)], null, call.Token);
                return null;
            }
            catch (CimException e)
            {
                return ProbeError.From(e) with { Message = $"SetClientProvisioningMode(false) failed: {e.Message}" };
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return new ProbeError(CimErrorCategory.Timeout,
                    $"SetClientProvisioningMode(false) did not answer within {options.FixCallTimeout.TotalSeconds:0.#} s.", null);
            }
        }

        async Task<Verification> VerifyAsync(CancellationToken ct)
        {
            var last = new Verification(VerifyOutcome.StillOn, null,
                $"The client was still in provisioning mode after {options.VerifyAttempts} re-reads of ProvisioningMode.");
            for (var attempt = 0; attempt < options.VerifyAttempts; attempt++)
            {
                if (attempt > 0)
                {
                    await Task.Delay(options.VerifyInterval, timeProvider, ct);
                }

                try
                {
                    var reading = await ConfigMgrClient.ReadProvisioningModeAsync(counting, ct);
                    if (reading.ReadsFalse)
                    {
                        return new Verification(VerifyOutcome.ReadsFalse, null, "ProvisioningMode reads false.");
                    }

                    if (!reading.KeyExists)
                    {
                        // Not a moment in a restart: the client's registry key is gone, so nothing proves the fix.
                        return new Verification(VerifyOutcome.KeyMissing, null,
                            $@"The CcmExec key (HKLM\{ConfigMgrClient.CcmExecKey}) vanished after the fix: nothing proves the client left provisioning mode.");
                    }

                    last = reading.RawValue is null
                        ? new Verification(VerifyOutcome.ValueMissing, null,
                            $"ProvisioningMode was missing after the fix in {attempt + 1} re-read(s); only the value false proves the client left provisioning mode.")
                        : new Verification(VerifyOutcome.StillOn, null,
                            $"ProvisioningMode still read '{reading.RawValue}' after {attempt + 1} re-read(s).");
                }
                catch (CimException e)
                {
                    // A client that restarts its service may drop a connection or two; the next attempt decides.
                    var reason = $"ProvisioningMode could not be re-read: {e.Message}";
                    last = new Verification(VerifyOutcome.Unread, ProbeError.From(e) with { Message = reason }, reason);
                }
            }

            return last;
        }

        async Task<string?> ReadExcludesQuietlyAsync(CancellationToken ct)
        {
            try
            {
                return await ConfigMgrClient.ReadStringValueAsync(counting, ConfigMgrClient.SystemTaskExcludesValue, ct);
            }
            catch (CimException)
            {
                // A record of the fix, never a condition of it.
                return null;
            }
        }

        async Task<ScheduleTriggerResult> TriggerScheduleAsync(string scheduleId, CancellationToken ct)
        {
            try
            {
                var answer = await counting.InvokeAsync(ConfigMgrClient.ClientNamespace, "SMS_Client", "TriggerSchedule",
                    [CimParameter.Of("sScheduleID", scheduleId)], null, ct);
                // Documented as UInt32 with 0 for success; real clients often send a nil ReturnValue.
                var code = answer.ReturnValue.AsUInt32();
                return answer.ReturnValue.IsNull || code == 0
                    ? new ScheduleTriggerResult(scheduleId, true, null)
                    : new ScheduleTriggerResult(scheduleId, false, new ProbeError(CimErrorCategory.Fault, $"TriggerSchedule {scheduleId} returned {answer.ReturnValue}.", code));
            }
            catch (CimException e)
            {
                return new ScheduleTriggerResult(scheduleId, false, ProbeError.From(e));
            }
        }
    }

    private enum VerifyOutcome
    {
        ReadsFalse,
        StillOn,
        ValueMissing,
        KeyMissing,
        Unread,
    }

    private sealed record Verification(VerifyOutcome Outcome, ProbeError? Error, string Reason);
}
