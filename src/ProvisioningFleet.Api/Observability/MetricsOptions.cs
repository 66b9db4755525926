namespace ProvisioningFleet.Api.Observability;

public sealed class MetricsOptions
{
    public const string Section = "Fleet:Metrics";

    /// <summary>
    /// <c>/metrics</c> needs an API key (any role; Prometheus sends it as a bearer token) unless this is false:
    /// the series name states, sweeps and error rates, nothing an anonymous visitor should read.
    /// </summary>
    public bool RequireApiKey { get; set; } = true;

    /// <summary>
    /// How often each replica counts devices by state for the <c>fleet.devices</c> gauge: one grouped
    /// query per interval, however often Prometheus scrapes.
    /// </summary>
    public TimeSpan DeviceCountInterval { get; set; } = TimeSpan.FromSeconds(15);
}
