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
    /// <c>/metrics</c> in Prometheus text format: anonymous, or for any API key (Reader and up) or signed-in person when
    /// <c>Fleet:Metrics:RequireApiKey</c> is true.
    /// </summary>
    public static IEndpointRouteBuilder MapFleetMetrics(this IEndpointRouteBuilder endpoints)
    {
        var requireKey = endpoints.ServiceProvider.GetRequiredService<IConfiguration>()
            .GetValue<bool>($"{MetricsOptions.Section}:{nameof(MetricsOptions.RequireApiKey)}");
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

    // Kubernetes probes and Prometheus scrapes every few seconds would drown the traces that matter.
    private static bool IsProbeTraffic(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");
}
