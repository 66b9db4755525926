namespace ProvisioningFleet.Api.Observability;

public sealed class MetricsOptions
{
    public const string Section = "Fleet:Metrics";

    /// <summary>When true, <c>/metrics</c> needs an API key (any role) instead of answering anyone.</summary>
    public bool RequireApiKey { get; set; }

    /// <summary>
    /// How often each replica counts devices by state for the <c>fleet.devices</c> gauge: one grouped
    /// query per interval, however often Prometheus scrapes.
    /// </summary>
    public TimeSpan DeviceCountInterval { get; set; } = TimeSpan.FromSeconds(15);
}
