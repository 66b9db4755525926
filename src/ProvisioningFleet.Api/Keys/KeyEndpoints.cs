using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Api.Keys;

public static class KeyEndpoints
{
    public static IEndpointRouteBuilder MapKeyEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var keys = endpoints.MapGroup("/api/v1/keys").WithTags("API keys").RequireAuthorization(FleetPolicies.Admin);
        keys.MapGet("/", ListAsync).WithName("ListKeys").WithSummary("Active API keys (never the keys themselves).");
        keys.MapPost("/", CreateAsync).WithName("CreateKey").WithSummary("Issues a key; the answer is the only time it is shown.");
        keys.MapDelete("/{id:long}", RevokeAsync).WithName("RevokeKey").WithSummary("Revokes a key at once, browser sessions signed in with it too.");
        return endpoints;
    }

    private static Task<Results<Ok<PagedList<KeyView>>, ValidationProblem>> ListAsync(
        FleetDbContext db, string? page, string? pageSize, CancellationToken cancellationToken) =>
        PageRequest.ListAsync(
            page,
            pageSize,
            db.ApiKeys.AsNoTracking().Where(key => key.RevokedAt == null),
            query => query.OrderBy(key => key.Id),
            key => new KeyView(key.Id, key.Name, key.Role, key.CreatedAt, key.LastUsedAt),
            cancellationToken);

    private static async Task<Results<Created<NewKeyView>, ValidationProblem>> CreateAsync(
        KeyInput input, ApiKeyStore store, FleetDbContext db, IAuditTrail audit, HttpContext context, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "name is required.");
        }
        else if (name.Length > 128)
        {
            errors.Add("name", "name must be at most 128 characters.");
        }

        var role = errors.ParseEnums<ApiKeyRole>("role", input.Role is null ? null : [input.Role]);
        if (input.Role is null)
        {
            errors.Add("role", $"role is required: one of {string.Join(", ", Enum.GetNames<ApiKeyRole>())}.");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var (key, secret) = store.Issue(name!, role[0]);
        audit.Record(db, context.User, "key.create", $"key:{key.Name}", new { key.Name, Role = key.Role.ToString() });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/keys/{key.Id}", new NewKeyView(key.Id, key.Name, key.Role, secret));
    }

    private static async Task<Results<NoContent, NotFound<ProblemDetails>>> RevokeAsync(
        long id, FleetDbContext db, IAuditTrail audit, RecentKeyChecks recent, TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        if (await db.ApiKeys.SingleOrDefaultAsync(key => key.Id == id && key.RevokedAt == null, cancellationToken) is not { } key)
        {
            return Problems.NotFound("API key not found", $"There is no active API key {id}.");
        }

        key.RevokedAt = time.GetUtcNow();
        audit.Record(db, context.User, "key.revoke", $"key:{key.Name}", new { key.Id, Role = key.Role.ToString() });
        await db.SaveChangesAsync(cancellationToken);
        // After the commit: a check that read the key before it and finishes later is then not kept either.
        recent.Forget();
        return TypedResults.NoContent();
    }
}

public sealed record KeyInput(string? Name, string? Role);

public sealed record KeyView(long Id, string Name, ApiKeyRole Role, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>The new key: <c>key</c> is shown this once and stored only as a hash.</summary>
public sealed record NewKeyView(long Id, string Name, ApiKeyRole Role, string Key);
