using System.Collections.Concurrent;

namespace ProvisioningFleet.Simulator.Fleet;

/// <summary>The devices one simulator serves, by host name (case-insensitive). Thread-safe.</summary>
public sealed class SimulatedFleet(TimeProvider? time = null, int invocationLogCapacity = 1000)
{
    private readonly ConcurrentDictionary<string, SimulatedDevice> _devices = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The real clock; each device adds its own skew.</summary>
    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    public IReadOnlyCollection<SimulatedDevice> Devices => [.. _devices.Values];

    public int Count => _devices.Count;

    /// <summary>Adds a device, replacing one with the same host name.</summary>
    public SimulatedDevice Add(SimulatedDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        device.AttachTo(Time, invocationLogCapacity);
        _devices[device.HostName] = device;
        return device;
    }

    public void AddRange(IEnumerable<SimulatedDevice> devices)
    {
        foreach (var device in devices)
        {
            Add(device);
        }
    }

    public SimulatedDevice? Find(string hostName) =>
        _devices.TryGetValue(hostName, out var device) ? device : null;

    public bool Remove(string hostName) => _devices.TryRemove(hostName, out _);

    public IReadOnlyList<InvocationRecord> Invocations(string hostName) =>
        Find(hostName)?.Invocations() ?? [];

    /// <summary>Every recorded invocation across the fleet, oldest first.</summary>
    public IReadOnlyList<InvocationRecord> AllInvocations() =>
        [.. _devices.Values.SelectMany(d => d.Invocations()).OrderBy(r => r.At)];
}
