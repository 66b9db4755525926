using System.Diagnostics.Metrics;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// The meter the WS-Man handlers record their HTTP metrics in: System.Net.Http's own instruments
/// (<c>http.client.request.duration</c>, <c>http.client.open_connections</c>, ...) under the name
/// <see cref="MeterName"/> instead of <c>System.Net.Http</c>. The service listens to System.Net.Http for its
/// other outgoing calls; it does not listen to this meter, so a device's request records nothing there, and
/// the handler skips the measuring altogether while nobody listens (its instruments are not enabled). The
/// WS-Man layer's own probe metrics and spans say how each device's call went; whoever wants the HTTP view of
/// those calls as well can listen to <see cref="MeterName"/>.
/// </summary>
internal sealed class WsManHttpMeters : IMeterFactory
{
    public const string MeterName = "ProvisioningFleet.WsMan.Http";

    public static readonly WsManHttpMeters Shared = new();

    // One meter for every handler: a handler asks for its meter when it sends its first request, and there is one
    // handler per device endpoint.
    private readonly Meter _meter = new(MeterName);

    private WsManHttpMeters()
    {
    }

    public Meter Create(MeterOptions options) => _meter;

    /// <summary>Nothing to release: the meter is the process's, shared by all handlers, and no handler disposes its factory.</summary>
    public void Dispose()
    {
    }
}
