using System.Globalization;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Probing;

public sealed class ProbeOptions
{
    /// <summary>The deadline for all of one device's reads together.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Reads one device's provisioning state. A healthy client costs one round trip; only a client in
/// provisioning mode (or without the CcmExec key) is read further. Never throws for the device's
/// failures: they come back in <see cref="ProbeResult.Error"/>.
/// </summary>
public sealed class ProvisioningProbe(TimeProvider timeProvider, ProbeOptions options)
{
    private static readonly string[] TypedValues =
    [
        ConfigMgrClient.ProvisioningEnabledTimeValue,
        ConfigMgrClient.ProvisioningMaxMinutesValue,
        ConfigMgrClient.SystemTaskExcludesValue,
    ];

    public async Task<ProbeResult> ProbeAsync(ICimSession session, CancellationToken cancellationToken)
    {
        var startedAt = timeProvider.GetUtcNow();
        var started = timeProvider.GetTimestamp();
        var counting = new CountingSession(session);
        using var deadline = new CancellationTokenSource(options.Timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var result = new ProbeResult { StartedAt = startedAt, Duration = TimeSpan.Zero, RoundTrips = 0 };

        try
        {
            await ReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Our deadline, or a transport that gave up by cancelling: both are a device that did not answer in time.
            result = result with { Error = new ProbeError(CimErrorCategory.Timeout, $"The probe did not finish within {options.Timeout.TotalSeconds:0.#} s.", null) };
        }
        catch (CimException e)
        {
            result = result with { Error = ProbeError.From(e) };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A session is meant to throw only CimException; anything else is still one device's problem, never the sweep's.
            result = result with { Error = new ProbeError(CimErrorCategory.Protocol, $"{e.GetType().Name}: {e.Message}", null) };
        }

        return result with { Duration = timeProvider.GetElapsedTime(started), RoundTrips = counting.Count };

        // Each step stores what it learnt before the next one can fail, so that a late failure keeps the facts.
        async Task ReadAsync(CancellationToken ct)
        {
            var mode = await ConfigMgrClient.ReadProvisioningModeAsync(counting, ct);
            result = result with { InProvisioningMode = mode.InProvisioningMode, ClientInstalled = mode.KeyExists ? true : null };
            if (mode.KeyExists && !mode.InProvisioningMode)
            {
                return;
            }

            try
            {
                result = result with { ClientId = await ConfigMgrClient.ReadClientIdAsync(counting, ct) };
            }
            catch (CimException e) when (e.Category == CimErrorCategory.NotFound)
            {
                result = result with { ClientInstalled = false };
                return;
            }

            if (!mode.KeyExists)
            {
                // root\ccm answers but the CcmExec key is gone: a broken or half-removed client, nothing to fix.
                result = result with { ClientInstalled = false };
                return;
            }

            var values = await ConfigMgrClient.ReadTypedValuesAsync(counting, TypedValues, ct);
            var rawEnabled = values.GetValueOrDefault(ConfigMgrClient.ProvisioningEnabledTimeValue)?.AsString();
            result = result with
            {
                ProvisioningEnabledTimeRaw = rawEnabled,
                ProvisioningEnabledAt = ParseEnabledTime(rawEnabled),
                ProvisioningMaxMinutes = values.GetValueOrDefault(ConfigMgrClient.ProvisioningMaxMinutesValue)?.AsInt64() is { } max and >= 0 and <= int.MaxValue ? (int)max : null,
                SystemTaskExcludes = values.GetValueOrDefault(ConfigMgrClient.SystemTaskExcludesValue)?.AsString(),
            };

            result = result with { TaskSequenceSignals = await ConfigMgrClient.ReadTaskSequenceSignalsAsync(counting, ct) };

            var before = timeProvider.GetUtcNow();
            var clock = await ConfigMgrClient.ReadClockAsync(counting, ct);
            var after = timeProvider.GetUtcNow();
            // The device read its clock somewhere inside the round trip; the midpoint halves the error.
            result = result with { DeviceClock = clock, DeviceClockReadAt = clock is null ? null : before + (after - before) / 2 };
        }
    }

    /// <summary>Epoch seconds (UTC), as REG_SZ text or REG_QWORD; a value outside 1970–3000 is unreadable.</summary>
    internal static DateTimeOffset? ParseEnabledTime(string? raw)
    {
        if (raw is null || !long.TryParse(raw.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            return null;
        }

        return seconds is > 0 and < 32503680000 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
    }
}
