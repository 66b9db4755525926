namespace ProvisioningFleet.Simulator.Fleet;

/// <summary>One CIM method call a device received: kept so that tests can prove what was (not) done.</summary>
public sealed record InvocationRecord(
    DateTimeOffset At,
    string HostName,
    string Namespace,
    string ClassName,
    string Method,
    IReadOnlyDictionary<string, string?> Parameters);
