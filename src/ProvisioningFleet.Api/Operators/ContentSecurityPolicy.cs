using System.Security.Cryptography;

namespace ProvisioningFleet.Api.Operators;

/// <summary>
/// The Content-Security-Policy of the pages people open. Everything the service serves is its own: scripts only
/// from its own files (no inline script anywhere), no frames of it elsewhere (clickjacking), forms posting only to
/// itself. An injected <c>&lt;script&gt;</c> or a markup-based exfiltration through a foreign host then does nothing.
/// </summary>
public static class ContentSecurityPolicy
{
    private const string Common =
        "default-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    /// <summary>The overview and device pages, the API's own answers: no inline script or style at all.</summary>
    public const string Pages = Common + "; script-src 'self'; style-src 'self'";

    /// <summary>
    /// The Hangfire dashboard: its markup carries style attributes and its chart library adds a style element, so
    /// styles (never scripts) may be inline there.
    /// </summary>
    public const string Dashboard = Common + "; script-src 'self'; style-src 'self' 'unsafe-inline'";

    /// <summary>The sign-in page: no script at all, its one style element allowed by a nonce made for the response.</summary>
    public static string SignIn(string styleNonce) => Common + $"; script-src 'none'; style-src 'nonce-{styleNonce}'";

    public static string NewNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// Sets <see cref="Pages"/> (or <see cref="Dashboard"/> under its path) on every answer that has not set its own.
    /// The API reference page (<c>/scalar</c>) is left out: it is a third-party single-page app with inline configuration.
    /// </summary>
    public static WebApplication UseContentSecurityPolicy(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/scalar"))
            {
                // Chosen now: the dashboard's own pipeline moves its prefix from Path to PathBase.
                var policy = context.Request.Path.StartsWithSegments(OperatorsUiExtensions.DashboardPath) ? Dashboard : Pages;
                context.Response.OnStarting(() =>
                {
                    var headers = context.Response.Headers;
                    if (!headers.ContainsKey("Content-Security-Policy"))
                    {
                        headers.ContentSecurityPolicy = policy;
                    }
                    headers.XContentTypeOptions = "nosniff";
                    return Task.CompletedTask;
                });
            }
            return next(context);
        });
        return app;
    }
}
