using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace ProvisioningFleet.Api.Access;

/// <summary>
/// A browser sends its cookie with any request, including one forged by another site; so a write made
/// with the cookie must also carry the anti-forgery token (header <c>X-XSRF-TOKEN</c>) that only a page
/// of this service can read. API keys are not sent by browsers on their own and need no token.
/// </summary>
internal sealed class CookieWriteProtection(RequestDelegate next, IAntiforgery antiforgery, IProblemDetailsService problems)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.User.Identity is { IsAuthenticated: true, AuthenticationType: FleetSchemes.Cookie }
            && !HttpMethods.IsGet(context.Request.Method)
            && !HttpMethods.IsHead(context.Request.Method)
            && !HttpMethods.IsOptions(context.Request.Method)
            && !await antiforgery.IsRequestValidAsync(context))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status403Forbidden,
                    Title = "Anti-forgery token missing or invalid",
                    Detail = $"A change made with the sign-in cookie needs the token from GET /api/v1/me in the {FleetSchemes.AntiforgeryHeader} header.",
                },
            });
            return;
        }

        await next(context);
    }
}
