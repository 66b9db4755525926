using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Storage;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Hosting;

/// <summary>
/// Turns what a request can throw into RFC 9457 problems: a malformed body is the caller's 400 (with
/// the JSON path named), a race lost to another writer is a 409, a database that cannot be reached is a
/// 503 with Retry-After (logged as a warning without the stack: it says nothing about the request), and
/// only a real fault is a 500.
/// </summary>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            BadHttpRequestException bad => FromBadRequest(bad),
            JsonException json => MalformedJson(json),
            DbUpdateConcurrencyException => new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The resource was changed by someone else",
                Detail = "Read it again and retry.",
            },
            DbUpdateException update when update.IsUniqueViolation(out var unique) => new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "Conflict",
                Detail = $"A record with the same identity already exists ({unique.ConstraintName}).",
            },
            _ when DatabaseUnavailable.IsUnstorableText(exception) => new ValidationProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request holds a character that is not allowed",
                Detail = NulCharacters.Message,
            },
            _ when DatabaseUnavailable.Is(exception) => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The database is unavailable",
                Detail = $"Nothing was changed by this request. Retry in {DatabaseUnavailable.RetryAfterSeconds} seconds.",
            },
            _ => null,
        };

        if (problem?.Status == StatusCodes.Status503ServiceUnavailable)
        {
            logger.LogWarning("The database is unavailable on {Method} {Path}: {Reason}", httpContext.Request.Method, httpContext.Request.Path, exception.GetBaseException().Message);
            httpContext.Response.Headers.RetryAfter = DatabaseUnavailable.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (problem is null)
        {
            if (httpContext.RequestAborted.IsCancellationRequested)
            {
                return true;
            }

            logger.LogError(exception, "Unhandled exception on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred",
            };
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static ProblemDetails FromBadRequest(BadHttpRequestException bad) =>
        bad.InnerException is JsonException json
            ? MalformedJson(json)
            : new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode switch
                {
                    StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
                    StatusCodes.Status413PayloadTooLarge => "Request body too large",
                    _ => "Bad request",
                },
                Detail = Describe(bad),
            };

    // The framework's own wording names parameters and .NET types ("Implicit body inferred for parameter ...",
    // "Failed to bind parameter \"Int64 id\""); the caller is told what to send instead.
    private static string Describe(BadHttpRequestException bad) => bad.StatusCode switch
    {
        StatusCodes.Status415UnsupportedMediaType => "Send the body as application/json.",
        StatusCodes.Status413PayloadTooLarge => "The request body is larger than this endpoint accepts.",
        _ when bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase) && bad.Message.Contains("no body", StringComparison.OrdinalIgnoreCase) =>
            "A JSON body is required.",
        _ when bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase) => "The request body could not be read as JSON for this resource.",
        _ => "A parameter of the request is missing or not valid.",
    };

    private static ValidationProblemDetails MalformedJson(JsonException json)
    {
        var field = string.IsNullOrEmpty(json.Path) ? "$" : json.Path;
        return new ValidationProblemDetails(new Dictionary<string, string[]>
        {
            [field] = [JsonFaultMessages.Describe(json)],
        })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request body is not valid JSON for this resource",
            Detail = $"Malformed or mistyped JSON at {field}.",
        };
    }
}
