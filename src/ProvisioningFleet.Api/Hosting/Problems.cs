using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace ProvisioningFleet.Api.Hosting;

/// <summary>The problem responses resources share, so that every 404 and 409 reads the same.</summary>
public static class Problems
{
    public static NotFound<ProblemDetails> NotFound(string title, string detail) =>
        TypedResults.NotFound(new ProblemDetails { Status = StatusCodes.Status404NotFound, Title = title, Detail = detail });

    public static NotFound<ProblemDetails> DeviceNotFound(long id) => NotFound("Device not found", $"There is no device {id}.");

    public static Conflict<ProblemDetails> Conflict(string title, string detail) =>
        TypedResults.Conflict(new ProblemDetails { Status = StatusCodes.Status409Conflict, Title = title, Detail = detail });
}
