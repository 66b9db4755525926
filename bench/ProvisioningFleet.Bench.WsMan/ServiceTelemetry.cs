using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ProvisioningFleet.Bench.WsMan;

/// <summary>
/// The HTTP client instrumentation the service registers (FleetObservabilityExtensions: OpenTelemetry traces and
/// metrics of HttpClient, peer tags dropped by a view, metrics collected on scrape), and counts of the spans and
/// measurements that reach it, to see what the WS-Man requests cost it.
/// </summary>
internal sealed class ServiceTelemetry : IDisposable
{
    private static readonly string[] KeptClientTags =
        ["http.request.method", "http.response.status_code", "error.type", "network.protocol.name", "network.protocol.version", "url.scheme", "http.connection.state"];

    private readonly MeterProvider _meters;
    private readonly TracerProvider _tracer;
    private readonly ActivityListener _spans;
    private readonly MeterListener _measurements;
    private long _httpSpans;
    private long _httpMeasurements;

    public ServiceTelemetry()
    {
        _meters = Sdk.CreateMeterProviderBuilder()
            .AddHttpClientInstrumentation()
            .AddView(instrument => instrument.Meter.Name is "System.Net.Http" or "System.Net.NameResolution"
                ? new MetricStreamConfiguration { TagKeys = KeptClientTags }
                : null)
            .AddReader(new BaseExportingMetricReader(new DiscardingExporter()))
            .Build();
        _tracer = Sdk.CreateTracerProviderBuilder().AddHttpClientInstrumentation().Build();

        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "System.Net.Http",
            Sample = static (ref _) => ActivitySamplingResult.PropagationData,
            ActivityStopped = _ => Interlocked.Increment(ref _httpSpans),
        };
        ActivitySource.AddActivityListener(_spans);
        // Listens to the very meters the service's instrumentation listens to, so it enables nothing more.
        _measurements = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "System.Net.Http")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _measurements.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref _httpMeasurements));
        _measurements.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _httpMeasurements));
        _measurements.Start();
    }

    public (long Spans, long Measurements) Counts => (Interlocked.Read(ref _httpSpans), Interlocked.Read(ref _httpMeasurements));

    public void Dispose()
    {
        _measurements.Dispose();
        _spans.Dispose();
        _tracer.Dispose();
        _meters.Dispose();
    }

    private sealed class DiscardingExporter : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }
}
