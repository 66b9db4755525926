using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ProvisioningFleet.Api.Tests.Notifications;

/// <summary>A request as the receiver got it: the exact body bytes (for the signature) and the headers.</summary>
internal sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A real HTTP server on a loopback port, started by the test, standing in for a webhook, Slack or Teams:
/// it keeps every request and answers with the status <see cref="Answer"/> gives for it (the request's
/// number from 1), or never answers when <see cref="NeverAnswer"/> is set.
/// </summary>
internal sealed class HttpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private int _count;
    private int _open;

    private HttpReceiver(WebApplication app) => _app = app;

    public Func<int, int> Answer { get; set; } = _ => StatusCodes.Status200OK;

    public bool NeverAnswer { get; set; }

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Requests that have arrived and not been answered (a receiver that never answers keeps them open).</summary>
    public int Open => Volatile.Read(ref _open);

    public Uri UrlFor(string path) => new(BaseUrl, path);

    public static async Task<HttpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new HttpReceiver(app);
        app.MapPost("/{**path}", receiver.HandleAsync);
        await app.StartAsync();
        receiver.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return receiver;
    }

    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(Func<IReadOnlyList<ReceivedRequest>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done(Requests))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The receiver has {Requests.Count} request(s) after {timeout}: {string.Join(", ", Requests.Select(r => r.Header("X-Fleet-Event")))}");
            await Task.Delay(100);
        }

        return Requests;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        _requests.Enqueue(new ReceivedRequest(context.Request.Path, headers, body.ToArray(), DateTimeOffset.UtcNow));
        var number = Interlocked.Increment(ref _count);
        if (NeverAnswer)
        {
            Interlocked.Increment(ref _open);
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The sender gave up: what a dead endpoint looks like from its side.
            }
            finally
            {
                Interlocked.Decrement(ref _open);
            }

            return;
        }

        context.Response.StatusCode = Answer(number);
        await context.Response.WriteAsync(context.Response.StatusCode >= 400 ? "receiver refused" : "ok");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
