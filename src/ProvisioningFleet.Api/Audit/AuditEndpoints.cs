using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Audit;

namespace ProvisioningFleet.Api.Audit;

public static class AuditEndpoints
{
    public static IHostApplicationBuilder AddFleetAudit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IAuditTrail, AuditTrail>();
        return builder;
    }

    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/audit", ListAsync)
            .RequireAuthorization(FleetPolicies.Admin)
            .WithName("ListAudit")
            .WithSummary("Changes made by Operators and Admins, newest first. Filters: actor (part of), action, target (part of), since.")
            .WithTags("Audit");
        return endpoints;
    }

    private static async Task<Results<Ok<PagedList<AuditView>>, ValidationProblem>> ListAsync(
        FleetDbContext db,
        string? actor,
        string[]? action,
        string? target,
        string? since,
        string? page,
        string? pageSize,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var paging = PageRequest.Parse(page, pageSize, errors);
        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (DateTimeOffset.TryParse(since, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
            {
                from = parsed.ToUniversalTime();
            }
            else
            {
                errors.Add("since", "since must be an ISO 8601 time.");
            }
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        IQueryable<AuditEntry> entries = db.AuditEntries.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(actor))
        {
            entries = entries.Where(entry => EF.Functions.ILike(entry.Actor, "%" + Like.Escape(actor) + "%", Like.EscapeCharacter));
        }

        if (action is { Length: > 0 })
        {
            entries = entries.Where(entry => action.Contains(entry.Action));
        }

        if (!string.IsNullOrWhiteSpace(target))
        {
            entries = entries.Where(entry => EF.Functions.ILike(entry.Target, "%" + Like.Escape(target) + "%", Like.EscapeCharacter));
        }

        if (from is { } start)
        {
            entries = entries.Where(entry => entry.At >= start);
        }

        var result = await paging.ToPagedListAsync(
            entries,
            query => query.OrderByDescending(entry => entry.At).ThenByDescending(entry => entry.Id),
            entry => new { entry.Id, entry.At, entry.Actor, entry.Action, entry.Target, entry.Details },
            cancellationToken);
        return TypedResults.Ok(new PagedList<AuditView>(
            result.Items.Select(entry => new AuditView(
                entry.Id, entry.At, entry.Actor, entry.Action, entry.Target,
                entry.Details is null ? null : JsonSerializer.Deserialize<JsonElement>(entry.Details))).ToList(),
            result.Total, result.Page, result.PageSize, result.TotalExact));
    }
}

public sealed record AuditView(long Id, DateTimeOffset At, string Actor, string Action, string Target, JsonElement? Details);
