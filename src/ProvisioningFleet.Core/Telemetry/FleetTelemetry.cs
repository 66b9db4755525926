using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ProvisioningFleet.Core.Telemetry;

/// <summary>
/// The service's own instruments, on System.Diagnostics so that Core needs no OpenTelemetry package;
/// the host exports them (Prometheus on /metrics) by the names below.
/// </summary>
public sealed class FleetTelemetry
{
    public const string Name = "ProvisioningFleet";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Histogram<double> _probeDuration;
    private readonly Counter<long> _remediations;
    private readonly Counter<long> _winRmErrors;
    private readonly Histogram<double> _sweepDuration;

    public FleetTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        _probeDuration = meter.CreateHistogram<double>(
            "fleet.probe.duration", "s", "Time to probe one device, by resulting state.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _remediations = meter.CreateCounter<long>("fleet.remediations", "{remediation}", "Remediations by outcome.");
        _winRmErrors = meter.CreateCounter<long>("fleet.winrm.errors", "{error}", "Failed WinRM calls by error category.");
        _sweepDuration = meter.CreateHistogram<double>("fleet.sweep.duration", "s", "Wall time of a sweep, by final status.");
    }

    /// <summary>
    /// A span for work on one device (<c>fleet.probe</c>, <c>fleet.remediate</c>), tagged with the device so
    /// that a trace leads to it; null when nobody listens. The caller disposes it.
    /// </summary>
    public static Activity? StartDeviceActivity(string name, long deviceId, string hostName)
    {
        var activity = ActivitySource.StartActivity(name);
        activity?.SetTag("fleet.device.id", deviceId);
        activity?.SetTag("fleet.device.host", hostName);
        return activity;
    }

    public void ProbeCompleted(TimeSpan elapsed, string state) =>
        _probeDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("state", state));

    public void RemediationFinished(string outcome) =>
        _remediations.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void WinRmFailed(string category) =>
        _winRmErrors.Add(1, new KeyValuePair<string, object?>("category", category));

    public void SweepFinished(TimeSpan elapsed, string status) =>
        _sweepDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("status", status));
}
