using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using ProvisioningFleet.Core.Telemetry;

namespace ProvisioningFleet.Api.Observability;

/// <summary>
/// The latest count of devices by state, published as the observable gauge <c>fleet.devices</c>.
/// A scrape reads the last snapshot; <see cref="DeviceCensusRefresh"/> replaces it on its own schedule.
/// </summary>
public sealed class DeviceCensus
{
    private volatile FrozenDictionary<string, long> _byState = FrozenDictionary<string, long>.Empty;

    public DeviceCensus(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(FleetTelemetry.Name);
        meter.CreateObservableGauge("fleet.devices", Observe, "{device}", "Devices by their latest state.");
    }

    public IReadOnlyDictionary<string, long> ByState => _byState;

    public void Update(IReadOnlyDictionary<string, long> byState) => _byState = byState.ToFrozenDictionary();

    private IEnumerable<Measurement<long>> Observe() =>
        _byState.Select(pair => new Measurement<long>(pair.Value, new KeyValuePair<string, object?>("state", pair.Key)));
}
