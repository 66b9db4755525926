using System.Net;
using System.Net.Sockets;

namespace ProvisioningFleet.LocalServices;

public static class FreePort
{
    /// <summary>
    /// A loopback port nobody listens on at this moment; the caller binds it soon after, and a race with
    /// another process is possible but rare enough for demo mode, tests and benches.
    /// </summary>
    public static int OnLoopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
