using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Access;

/// <summary>
/// Wrong API keys and wrong sign-ins are throttled per client address: over a real socket, each client
/// named by X-Forwarded-For through the loopback proxy the service trusts by default.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class KeyCheckThrottlingTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const int FailuresPerWindow = 3;
    private readonly LogLines _logs = new();
    private LoggedFleetApiFactory _api = null!;
    private Uri _baseAddress = null!;

    public async Task InitializeAsync()
    {
        _api = new LoggedFleetApiFactory(await postgres.CreateDatabaseAsync(), _logs);
        _api.Settings["Fleet:KeyCheckLimit:FailuresPerWindow"] = FailuresPerWindow.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _api.Settings["Fleet:KeyCheckLimit:Window"] = "00:00:03";
        _api.UseKestrel(0);
        _api.StartServer();
        var address = _api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _baseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Wrong_keys_past_the_limit_get_429_with_retry_after_even_with_a_good_key_then_the_window_ends()
    {
        using var guesser = Client("203.0.113.10");
        for (var i = 0; i < FailuresPerWindow; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Get(guesser, "/api/v1/devices", key: $"pfk_guess-{i}-000000000000000000000000")).StatusCode);
        }

        var throttled = await Get(guesser, "/api/v1/devices", key: FleetApiFactory.AdminApiKey);
        var problem = await throttled.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Contains("Too many failed key checks", problem.GetProperty("title").GetString());
        var retryAfter = throttled.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        var bearer = await Get(guesser, "/metrics", bearer: FleetApiFactory.AdminApiKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, bearer.StatusCode);

        using var neighbour = Client("203.0.113.11");
        Assert.Equal(HttpStatusCode.OK, (await Get(neighbour, "/api/v1/devices", key: FleetApiFactory.AdminApiKey)).StatusCode);
        // Requests without a key are not key checks: the health endpoint answers the throttled address.
        Assert.Equal(HttpStatusCode.OK, (await guesser.GetAsync("/health/live")).StatusCode);

        var line = Assert.Single(_logs.Lines, l => l.Contains("203.0.113.10", StringComparison.Ordinal));
        Assert.Contains($"{FailuresPerWindow} failed", line);
        Assert.DoesNotContain("pfk_", string.Join('\n', _logs.Lines));

        await Task.Delay(retryAfter.Value + TimeSpan.FromMilliseconds(500));
        Assert.Equal(HttpStatusCode.OK, (await Get(guesser, "/api/v1/devices", key: FleetApiFactory.AdminApiKey)).StatusCode);
    }

    [Fact]
    public async Task Wrong_sign_ins_past_the_limit_get_429_before_the_key_is_looked_at()
    {
        using var browser = Client("198.51.100.20", cookies: true);
        for (var i = 0; i < FailuresPerWindow; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(browser, $"pfk_wrong-{i}-0000000000000000000000000")).StatusCode);
        }

        var throttled = await SignInAsync(browser, FleetApiFactory.AdminApiKey);
        await throttled.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.NotNull(throttled.Headers.RetryAfter?.Delta);
        Assert.Single(_logs.Lines, l => l.Contains("198.51.100.20", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_good_key_used_often_is_never_throttled()
    {
        using var script = Client("203.0.113.30");
        for (var i = 0; i < FailuresPerWindow * 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Get(script, "/api/v1/me", key: FleetApiFactory.AdminApiKey)).StatusCode);
        }
    }

    private HttpClient Client(string forwardedFor, bool cookies = false)
    {
        var client = new HttpClient(new HttpClientHandler { UseCookies = cookies, AllowAutoRedirect = false }) { BaseAddress = _baseAddress };
        client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return client;
    }

    private static Task<HttpResponseMessage> Get(HttpClient client, string path, string? key = null, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }
        if (bearer is not null)
        {
            request.Headers.Authorization = new("Bearer", bearer);
        }
        return client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string apiKey)
    {
        var page = await browser.GetStringAsync("/signin");
        var token = FormToken().Match(page);
        return await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [token.Groups["name"].Value] = WebUtility.HtmlDecode(token.Groups["value"].Value),
            ["apiKey"] = apiKey,
        }));
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>__RequestVerificationToken)" value="(?<value>[^"]+)">""")]
    private static partial Regex FormToken();

    private sealed class LoggedFleetApiFactory(string connectionString, ILoggerProvider logs) : FleetApiFactory(connectionString)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddSingleton(logs));
        }
    }

    /// <summary>The warnings of the throttle, as written.</summary>
    private sealed class LogLines : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => categoryName.EndsWith("FailedKeyChecks", StringComparison.Ordinal) ? new Logger(Lines) : NullLogger;

        public void Dispose()
        {
        }

        private static readonly ILogger NullLogger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    lines.Enqueue(formatter(state, exception));
                }
            }
        }
    }
}
