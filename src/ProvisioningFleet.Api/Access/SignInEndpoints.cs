using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using ProvisioningFleet.Api.Operators;

namespace ProvisioningFleet.Api.Access;

/// <summary>
/// The browser side of authentication: a person signs in with an API key and gets a cookie carrying
/// that key's name and role. The page is plain HTML so that it works before anything else loads.
/// </summary>
public static class SignInEndpoints
{
    public const string SignInPath = "/signin";
    public const string SignOutPath = "/signout";

    public static IEndpointRouteBuilder MapSignInEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SignInPath, (HttpContext context, IAntiforgery antiforgery, string? returnUrl) =>
                Page(context, antiforgery, returnUrl, error: null, StatusCodes.Status200OK))
            .AllowAnonymous()
            .ExcludeFromDescription();

        endpoints.MapPost(SignInPath, SignInAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .ExcludeFromDescription();

        endpoints.MapPost(SignOutPath, async (HttpContext context) =>
            {
                await context.SignOutAsync(FleetSchemes.Cookie);
                return TypedResults.Redirect(SignInPath);
            })
            .AllowAnonymous()
            .DisableAntiforgery()
            .ExcludeFromDescription();

        endpoints.MapGet("/api/v1/me", (HttpContext context, IAntiforgery antiforgery) =>
            {
                var user = context.User;
                var viaCookie = user.Identity?.AuthenticationType == FleetSchemes.Cookie;
                return TypedResults.Ok(new SessionView(
                    user.Identity?.Name ?? "",
                    user.FleetRole()?.ToString() ?? "",
                    viaCookie ? "Cookie" : "ApiKey",
                    viaCookie ? antiforgery.GetAndStoreTokens(context).RequestToken : null,
                    FleetSchemes.AntiforgeryHeader));
            })
            .RequireAuthorization(FleetPolicies.Reader)
            .WithName("GetSession")
            .WithSummary("Who the caller is; for a browser session also the anti-forgery token its writes must send.")
            .WithTags("Access");
        return endpoints;
    }

    private static async Task<IResult> SignInAsync(HttpContext context, IAntiforgery antiforgery, ApiKeyStore keys, FailedKeyChecks failures)
    {
        if (!context.Request.HasFormContentType)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "The sign-in form must be posted as a form.");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var returnUrl = form["returnUrl"].ToString();
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Page(context, antiforgery, returnUrl, "The form expired; please try again.", StatusCodes.Status400BadRequest);
        }

        var presented = form["apiKey"].ToString().Trim();
        if (presented.Length == 0 || await keys.FindActiveAsync(presented, context.RequestAborted) is not { } key)
        {
            failures.RecordFailure(context);
            return Page(context, antiforgery, returnUrl, "That key is unknown or revoked.", StatusCodes.Status401Unauthorized);
        }

        await context.SignInAsync(FleetSchemes.Cookie, FleetActor.Principal(key, FleetSchemes.Cookie), new AuthenticationProperties { IsPersistent = false });
        // The framework's local-URL rule (no "//", "/\\", control characters, which browsers strip):
        // an open redirect would let a link send a signed-in person to a fake sign-in page elsewhere.
        return TypedResults.LocalRedirect(RedirectHttpResult.IsLocalUrl(returnUrl) ? returnUrl : "/");
    }

    private static ContentHttpResult Page(HttpContext context, IAntiforgery antiforgery, string? returnUrl, string? error, int status)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        var styleNonce = ContentSecurityPolicy.NewNonce();
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy.SignIn(styleNonce);
        var encode = (string? text) => WebUtility.HtmlEncode(text ?? "");
        var errorHtml = error is null ? "" : $"<p class=\"error\" role=\"alert\">{encode(error)}</p>";
        var html = $$"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>Sign in · ProvisioningFleet</title>
              <style nonce="{{styleNonce}}">
                body { font-family: system-ui, sans-serif; background: #f4f5f7; display: grid; place-items: center; min-height: 100vh; margin: 0; }
                form { background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); width: min(26rem, 90vw); }
                h1 { font-size: 1.3rem; margin-top: 0; }
                label { display: block; margin-bottom: .4rem; }
                input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
                button { margin-top: 1rem; padding: .5rem 1.2rem; font-size: 1rem; }
                .error { color: #a40000; }
                .hint { color: #555; font-size: .9rem; }
              </style>
            </head>
            <body>
              <form method="post" action="{{SignInPath}}">
                <h1>ProvisioningFleet</h1>
                {{errorHtml}}
                <label for="apiKey">API key</label>
                <input id="apiKey" name="apiKey" type="password" autocomplete="off" required autofocus>
                <input type="hidden" name="{{encode(tokens.FormFieldName)}}" value="{{encode(tokens.RequestToken)}}">
                <input type="hidden" name="returnUrl" value="{{encode(returnUrl)}}">
                <button type="submit">Sign in</button>
                <p class="hint">Your session has the role of the key you sign in with.</p>
              </form>
            </body>
            </html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8", statusCode: status);
    }
}

/// <summary>The caller; <c>antiforgeryToken</c> is set for browser sessions, whose writes must send it in <c>antiforgeryHeader</c>.</summary>
public sealed record SessionView(string Name, string Role, string Authentication, string? AntiforgeryToken, string AntiforgeryHeader);
