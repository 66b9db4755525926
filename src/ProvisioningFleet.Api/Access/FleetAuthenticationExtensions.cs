using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Api.Access;

public static class FleetAuthenticationExtensions
{
    /// <summary>API keys and the browser sign-in cookie, the role policies, and the FLEET_ADMIN_API_KEY bootstrap.</summary>
    public static IHostApplicationBuilder AddFleetAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ApiKeyHasher>();
        builder.Services.AddScoped<ApiKeyStore>();
        var checkMaxAge = builder.Configuration.GetValue(RecentKeyChecks.MaxAgeSetting, TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton(services => new RecentKeyChecks(services.GetRequiredService<TimeProvider>(), checkMaxAge));
        builder.Services.AddOptions<KeyCheckLimitOptions>().BindConfiguration(KeyCheckLimitOptions.Section)
            .Validate(o => o.FailuresPerWindow > 0 && o.Window > TimeSpan.Zero, $"{KeyCheckLimitOptions.Section}: FailuresPerWindow and Window must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<FailedKeyChecks>();
        builder.Services.AddAntiforgery(options =>
        {
            options.HeaderName = FleetSchemes.AntiforgeryHeader;
            options.Cookie.Name = "ProvisioningFleet.Antiforgery";
            // Same as the request (not Always like the session cookie): the token proves no identity, and the
            // framework refuses to issue an Always-Secure token on plain HTTP, which would break the sign-in page.
        });

        builder.Services.AddAuthentication(FleetSchemes.Default)
            .AddPolicyScheme(FleetSchemes.Default, "API key or sign-in cookie", options =>
                options.ForwardDefaultSelector = context =>
                    FleetSchemes.PresentsApiKey(context.Request) ? FleetSchemes.ApiKey : FleetSchemes.Cookie)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(FleetSchemes.ApiKey, null)
            .AddCookie(FleetSchemes.Cookie, options =>
            {
                options.Cookie.Name = "ProvisioningFleet.Auth";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.Cookie.SecurePolicy = SecurePolicy(builder.Environment);
                options.ExpireTimeSpan = TimeSpan.FromHours(8);
                options.SlidingExpiration = true;
                options.LoginPath = SignInEndpoints.SignInPath;
                options.AccessDeniedPath = SignInEndpoints.SignInPath;
                options.Events = new CookieAuthenticationEvents
                {
                    // Scripts and the pages' fetch calls get status codes; only page navigation is redirected.
                    OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized),
                    OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden),
                    // A revoked key ends its browser sessions at once, not when the cookie expires.
                    OnValidatePrincipal = async context =>
                    {
                        var keys = context.HttpContext.RequestServices.GetRequiredService<ApiKeyStore>();
                        var principal = context.Principal!;
                        if (!long.TryParse(principal.FindFirst(FleetSchemes.KeyIdClaim)?.Value, out var keyId)
                            || principal.FleetRole() is not { } role
                            || !await keys.IsActiveAsync(keyId, role, context.HttpContext.RequestAborted))
                        {
                            context.RejectPrincipal();
                            await context.HttpContext.SignOutAsync(FleetSchemes.Cookie);
                        }
                    },
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(FleetPolicies.Reader, policy => policy.RequireRole(FleetPolicies.RolesFor(ApiKeyRole.Reader)))
            .AddPolicy(FleetPolicies.Operator, policy => policy.RequireRole(FleetPolicies.RolesFor(ApiKeyRole.Operator)))
            .AddPolicy(FleetPolicies.Admin, policy => policy.RequireRole(FleetPolicies.RolesFor(ApiKeyRole.Admin)))
            // Secure by default: an endpoint that names no policy still needs a signed-in Reader.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireRole(FleetPolicies.RolesFor(ApiKeyRole.Reader)).Build());

        BootstrapAdminKey.RefuseWeakKey(builder.Configuration);
        builder.Services.AddHostedService<BootstrapAdminKey>();
        return builder;
    }

    public static WebApplication UseFleetAuthentication(this WebApplication app)
    {
        app.UseMiddleware<KeyCheckThrottling>();
        app.UseAuthentication();
        app.UseMiddleware<CookieWriteProtection>();
        app.UseAuthorization();
        return app;
    }

    // Outside Development the service is reached over HTTPS, usually through a proxy that may talk to it in
    // plain HTTP: the cookie must still never travel without TLS, whatever scheme the request arrived with.
    private static CookieSecurePolicy SecurePolicy(IHostEnvironment environment) =>
        environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;

    private static Task RedirectOrStatus(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        var request = context.Request;
        var wantsPage = HttpMethods.IsGet(request.Method)
            && !request.Path.StartsWithSegments("/api")
            && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
        if (wantsPage)
        {
            context.Response.Redirect(context.RedirectUri);
        }
        else
        {
            context.Response.StatusCode = status;
            if (status == StatusCodes.Status401Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{FleetSchemes.ApiKeyHeader}\"";
            }
        }

        return Task.CompletedTask;
    }
}
