using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ProvisioningFleet.WsMan.Cim;
using ProvisioningFleet.WsMan.Transport;

namespace ProvisioningFleet.WsMan.Tests.Transport;

/// <summary>
/// The service's HTTP client instrumentation listens to the System.Net.Http activity source and meter; a device's
/// WS-Man requests must reach neither (the probe's own spans and metrics cover them), the service's other clients both.
/// </summary>
public class HttpInstrumentationTests
{
    private const string StdRegProv = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/StdRegProv";

    [Fact]
    public async Task WS_Man_requests_reach_neither_the_HTTP_client_spans_nor_its_metrics_while_other_clients_do()
    {
        await using var server = await ScriptedServer.ReplyingAsync(Fixture.Bytes("invoke-getstringvalue.xml"));
        var port = server.Endpoint.Port;
        var spans = new ConcurrentQueue<string>();
        var measurements = new ConcurrentQueue<(string Meter, string Instrument)>();
        using var spanListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "System.Net.Http",
            Sample = static (ref _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Equals(activity.GetTagItem("server.port"), port))
                {
                    spans.Enqueue(activity.OperationName);
                }
            },
        };
        ActivitySource.AddActivityListener(spanListener);
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name is "System.Net.Http" or WsManHttpMeters.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "server.port" && Equals(tag.Value, port))
                {
                    measurements.Enqueue((instrument.Meter.Name, instrument.Name));
                }
            }
        }

        meterListener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Record(instrument, tags));
        meterListener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Record(instrument, tags));
        meterListener.Start();

        await using (var client = server.BasicClient())
        {
            var result = await client.InvokeAsync(StdRegProv, "GetStringValue", [CimParameter.Of("sValueName", "ProvisioningMode")], null, CancellationToken.None);
            Assert.Equal(0u, result.ReturnValue.AsUInt32());
        }

        var wsMan = measurements.ToArray();
        Assert.Empty(spans);
        Assert.DoesNotContain(wsMan, m => m.Meter == "System.Net.Http");
        // Still measured, in a meter of its own, for whoever chooses to listen.
        Assert.Contains((WsManHttpMeters.MeterName, "http.client.request.duration"), wsMan);

        using (var other = new HttpClient())
        {
            using var response = await other.PostAsync(server.Endpoint, new ByteArrayContent([]));
            response.EnsureSuccessStatusCode();
        }

        Assert.Single(spans);
        Assert.Contains(("System.Net.Http", "http.client.request.duration"), measurements.Skip(wsMan.Length));
    }
}
