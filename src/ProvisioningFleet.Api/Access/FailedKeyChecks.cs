using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace ProvisioningFleet.Api.Access;

/// <summary>
/// Throttles guessing: each client address may fail <see cref="KeyCheckLimitOptions.FailuresPerWindow"/> key checks
/// per window (the rate limiter's fixed window, partitioned by address); past that every request from it that
/// presents a key, and every sign-in, is answered 429 with <c>Retry-After</c> before any key is looked up.
/// Only failures count, so a busy script or dashboard with a good key is never slowed down.
/// </summary>
internal sealed partial class FailedKeyChecks(IOptions<KeyCheckLimitOptions> options, ILogger<FailedKeyChecks> logger) : IDisposable
{
    private readonly KeyCheckLimitOptions _options = options.Value;

    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.FailuresPerWindow,
            Window = options.Value.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>The client address as the service sees it (after a known proxy's X-Forwarded-For).</summary>
    public static string AddressOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>How long the address must wait, or null when it may try.</summary>
    public TimeSpan? RetryAfter(HttpContext context)
    {
        using var lease = _failures.AttemptAcquire(AddressOf(context), 0);
        if (lease.IsAcquired)
        {
            return null;
        }
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : _options.Window;
    }

    /// <summary>Counts one failed check; the failure that uses up the window is logged, once per burst.</summary>
    public void RecordFailure(HttpContext context)
    {
        var address = AddressOf(context);
        using var lease = _failures.AttemptAcquire(address, 1);
        if (lease.IsAcquired && _failures.GetStatistics(address)?.CurrentAvailablePermits == 0)
        {
            LogBurst(address, _options.FailuresPerWindow, _options.Window);
        }
    }

    /// <summary>Answers a throttled request: 429 as problem details, with the seconds to wait.</summary>
    public static IResult TooManyAttempts(TimeSpan retryAfter, HttpContext context)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many failed key checks from this address.",
            detail: "Wait for the time in Retry-After before trying again.");
    }

    public void Dispose() => _failures.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key checks from {ClientAddress} throttled: {Failures} failed within {Window}; further attempts get 429 until the window ends")]
    private partial void LogBurst(string clientAddress, int failures, TimeSpan window);
}

/// <summary>Answers 429 to a throttled address before authentication looks at the key it presents.</summary>
internal sealed class KeyCheckThrottling(RequestDelegate next, FailedKeyChecks failures)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var checksKey = FleetSchemes.PresentsApiKey(context.Request)
            || (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(SignInEndpoints.SignInPath, StringComparison.OrdinalIgnoreCase));
        if (checksKey && failures.RetryAfter(context) is { } retryAfter)
        {
            await FailedKeyChecks.TooManyAttempts(retryAfter, context).ExecuteAsync(context);
            return;
        }
        await next(context);
    }
}
