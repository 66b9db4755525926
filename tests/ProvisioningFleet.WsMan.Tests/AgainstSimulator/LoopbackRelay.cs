using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ProvisioningFleet.WsMan.Tests.AgainstSimulator;

/// <summary>
/// A TCP relay in front of the simulator that can cut every open connection, as a NAT or load
/// balancer dropping idle connections does, and can alter what the server sends back, as an attacker
/// on the path would. Counts the connections it was asked to open.
/// </summary>
internal sealed class LoopbackRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly Action<Memory<byte>>? _alterReplies;
    private int _connections;

    public LoopbackRelay(Uri target, Action<Memory<byte>>? alterReplies = null)
    {
        _alterReplies = alterReplies;
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Connections => Volatile.Read(ref _connections);

    public Uri Rewrite(Uri endpoint) => new UriBuilder(endpoint) { Port = ((IPEndPoint)_listener.LocalEndpoint).Port }.Uri;

    public void DropAll()
    {
        foreach (var socket in _open.Keys)
        {
            socket.Close();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await server.ConnectAsync(_target);
            _open[client] = 0;
            _open[server] = 0;
            _ = PumpAsync(client, server, null);
            _ = PumpAsync(server, client, _alterReplies);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, Action<Memory<byte>>? alter)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                alter?.Invoke(buffer.AsMemory(0, read));
                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            from.Close();
            to.Close();
            _open.TryRemove(from, out _);
            _open.TryRemove(to, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropAll();
        await _accepting;
        _stop.Dispose();
    }
}
