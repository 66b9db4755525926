using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ProvisioningFleet.Api.Access;

/// <summary>Authenticates <c>X-Api-Key</c> (or <c>Authorization: Bearer</c>); 401 for a missing or unknown key, 403 for a role that may not.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    FailedKeyChecks failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(FleetSchemes.ApiKeyHeader, out var values))
        {
            var authorization = Request.Headers.Authorization;
            if (authorization.Count != 1 || !authorization[0]!.StartsWith(FleetSchemes.BearerPrefix, StringComparison.OrdinalIgnoreCase))
            {
                if (authorization.Count == 0)
                {
                    return AuthenticateResult.NoResult();
                }
                failures.RecordFailure(Context);
                return AuthenticateResult.Fail("The API key is unknown or revoked.");
            }
            values = authorization[0]![FleetSchemes.BearerPrefix.Length..];
        }

        if (values.Count != 1 || await keys.FindActiveAsync(values[0]!.Trim(), Context.RequestAborted) is not { } key)
        {
            failures.RecordFailure(Context);
            return AuthenticateResult.Fail("The API key is unknown or revoked.");
        }

        return AuthenticateResult.Success(new AuthenticationTicket(FleetActor.Principal(key, FleetSchemes.ApiKey), FleetSchemes.ApiKey));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"ApiKey header=\"{FleetSchemes.ApiKeyHeader}\"";
        return Task.CompletedTask;
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }
}
