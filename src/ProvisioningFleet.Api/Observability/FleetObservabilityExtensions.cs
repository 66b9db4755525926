using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Core.Telemetry;

namespace ProvisioningFleet.Api.Observability;

public static class FleetObservabilityExtensions
{
    /// <summary>
    /// Console logs (FleetConsoleLogging: plain for people, JSON with scope fields elsewhere), the fleet's metrics for Prometheus,
    /// traces of probes and remediations, and OTLP export when an endpoint is configured.
    /// </summary>
    public static IHostApplicationBuilder AddFleetObservability(this IHostApplicationBuilder builder)
    {
        builder.AddFleetConsoleLogging();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<FleetTelemetry>();
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section);
        builder.Services.AddSingleton<DeviceCensus>();
        builder.Services.AddHostedService<DeviceCensusRefresh>();

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(FleetTelemetry.Name))
            .WithMetrics(metrics => metrics
                .AddMeter(FleetTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddView(WithoutPeerNames)
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(FleetTelemetry.Name)
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbeTraffic(context.Request.Path))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>
    /// <c>/metrics</c> in Prometheus text format for any API key (Reader and up) or signed-in person; anonymous only
    /// when <c>Fleet:Metrics:RequireApiKey</c> is false.
    /// </summary>
    public static IEndpointRouteBuilder MapFleetMetrics(this IEndpointRouteBuilder endpoints)
    {
        var requireKey = endpoints.ServiceProvider.GetRequiredService<IConfiguration>()
            .GetValue($"{MetricsOptions.Section}:{nameof(MetricsOptions.RequireApiKey)}", defaultValue: true);
        var scrape = endpoints.MapPrometheusScrapingEndpoint("/metrics");
        if (requireKey)
        {
            scrape.RequireAuthorization(FleetPolicies.Reader);
        }
        else
        {
            scrape.AllowAnonymous();
        }
        return endpoints;
    }

    // The HTTP client and DNS series would name every device the service talks to (server.address and
    // server.port, the peer's address, the looked-up name): a list of the fleet for whoever reads the
    // metrics. Only the tags that say how the calls went are kept.
    private static readonly string[] KeptClientTags =
        ["http.request.method", "http.response.status_code", "error.type", "network.protocol.name", "network.protocol.version", "url.scheme", "http.connection.state"];

    private static MetricStreamConfiguration? WithoutPeerNames(System.Diagnostics.Metrics.Instrument instrument) =>
        instrument.Meter.Name is "System.Net.Http" or "System.Net.NameResolution" or "OpenTelemetry.Instrumentation.Http"
            ? new MetricStreamConfiguration { TagKeys = KeptClientTags }
            : null;

    // Kubernetes probes and Prometheus scrapes every few seconds would drown the traces that matter.
    private static bool IsProbeTraffic(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");
}
