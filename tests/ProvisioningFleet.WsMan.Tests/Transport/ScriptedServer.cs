using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ProvisioningFleet.WsMan.Tests.Transport;

/// <summary>A real Kestrel listener on loopback that answers with whatever a test scripts, and records what it was sent.</summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ScriptedServer(WebApplication app) => _app = app;

    public ConcurrentQueue<(Dictionary<string, string> Headers, byte[] Body)> Requests { get; } = new();

    public Uri Endpoint { get; private set; } = null!;

    public static async Task<ScriptedServer> StartAsync(Func<HttpContext, Task> respond)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new ScriptedServer(app);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            server.Requests.Enqueue((
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray()));
            await respond(context);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Endpoint = new Uri(address.TrimEnd('/') + "/wsman");
        return server;
    }

    public static Task<ScriptedServer> ReplyingAsync(byte[] reply, int status = 200) => StartAsync(async context =>
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/soap+xml;charset=UTF-8";
        await context.Response.Body.WriteAsync(reply, context.RequestAborted);
    });

    public WsManClient BasicClient(TimeSpan? operationTimeout = null, int maxReplyBytes = 4 * 1024 * 1024) => new(new WsManClientOptions
    {
        Endpoint = Endpoint,
        Authentication = WsManAuthentication.Basic,
        Credential = new WsManCredential("fleet", "secret"),
        AllowUnencrypted = true,
        OperationTimeout = operationTimeout ?? TimeSpan.FromSeconds(5),
        ReplyGrace = TimeSpan.FromMilliseconds(500),
        MaxReplyBytes = maxReplyBytes,
    });

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
