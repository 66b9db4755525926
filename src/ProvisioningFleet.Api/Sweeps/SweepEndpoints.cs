using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Jobs;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Sweeps;

namespace ProvisioningFleet.Api.Sweeps;

public static class SweepEndpoints
{
    /// <summary>Sweeps, their shards and their schedule; needs the engine, remediations and the job store (AddFleetJobs).</summary>
    public static IHostApplicationBuilder AddSweeps(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<SweepFinisher>();
        services.AddSingleton<SweepShardRunner>();
        services.AddTransient<SweepJobs>();
        services.AddSingleton<SweepSchedule>();
        services.AddTransient<HistoryPruning>();
        services.AddHostedService<SweepScheduleRegistration>();
        return builder;
    }

    public static IEndpointRouteBuilder MapSweepEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var sweeps = endpoints.MapGroup("/api/v1/sweeps").WithTags("Sweeps");
        sweeps.MapPost("/", StartAsync).RequireAuthorization(FleetPolicies.Operator)
            .WithName("StartSweep").WithSummary("Queues a sweep of every enabled device (or those with a tag); it starts when no other sweep runs.");
        sweeps.MapGet("/", ListAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("ListSweeps").WithSummary("Sweeps, newest first. Filter: status.");
        sweeps.MapGet("/{id:long}", GetAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("GetSweep").WithSummary("One sweep with its live progress counters.");
        sweeps.MapPost("/{id:long}/cancel", CancelAsync).RequireAuthorization(FleetPolicies.Operator)
            .WithName("CancelSweep").WithSummary("Cancels a queued sweep at once, or stops a running one after the devices in flight.");
        return endpoints;
    }

    private static async Task<Results<Accepted<SweepAccepted>, ValidationProblem, Conflict<ProblemDetails>>> StartAsync(
        SweepRequest? request, HttpContext http, SweepJobs jobs, CancellationToken cancellationToken)
    {
        var tag = string.IsNullOrWhiteSpace(request?.Tag) ? null : request.Tag.Trim();
        var errors = new ValidationErrors();
        errors.MaxLength("tag", tag, FleetLimits.Tag);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var (sweep, alreadyQueued) = await jobs.RequestManualAsync(tag, request?.DryRun ?? false, http.User, cancellationToken);
        return sweep is null
            ? Problems.Conflict("A sweep is already queued", $"Sweep {alreadyQueued} ({(tag is null ? "the whole fleet" : $"tag '{tag}'")}) is queued and has not started; one queued sweep per tag at a time.")
            : TypedResults.Accepted($"/api/v1/sweeps/{sweep.Id}", new SweepAccepted(sweep.Id, sweep.Status));
    }

    private static async Task<Results<Ok<PagedList<SweepView>>, ValidationProblem>> ListAsync(
        FleetDbContext db, string[]? status, string? page, string? pageSize, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var paging = PageRequest.Parse(page, pageSize, errors);
        var statuses = errors.ParseEnums<SweepStatus>("status", status);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var sweeps = db.Sweeps.AsNoTracking();
        if (statuses.Length > 0)
        {
            sweeps = sweeps.Where(s => statuses.Contains(s.Status));
        }

        var counted = await PageRequest.CountUpToBoundAsync(sweeps, cancellationToken);
        var items = await sweeps.OrderByDescending(s => s.RequestedAt).ThenByDescending(s => s.Id).Skip(paging.Skip).Take(paging.PageSize).ToListAsync(cancellationToken);
        var counts = await SweepRemediationCounts.ForAsync(db, items.Select(s => s.Id).ToList(), cancellationToken);
        return TypedResults.Ok(paging.Answer(items.Select(s => SweepView.From(s, counts)).ToList(), counted));
    }

    private static async Task<Results<Ok<SweepView>, NotFound<ProblemDetails>>> GetAsync(long id, FleetDbContext db, CancellationToken cancellationToken) =>
        await db.Sweeps.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken) is { } sweep
            ? TypedResults.Ok(await SweepView.ReadAsync(db, sweep, cancellationToken))
            : NotFoundSweep(id);

    private static async Task<Results<Accepted<SweepView>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> CancelAsync(
        long id, HttpContext http, FleetDbContext db, IAuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // The cancel and its audit entry (who) commit together.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // A queued sweep has no shard that could notice the flag, so it ends here; a running one ends when its shards see it.
        var changed = await db.Sweeps
            .Where(s => s.Id == id && (s.Status == SweepStatus.Queued || s.Status == SweepStatus.Running))
            .ExecuteUpdateAsync(set => set
                .SetProperty(s => s.CancelRequested, true)
                .SetProperty(s => s.Status, s => s.Status == SweepStatus.Queued ? SweepStatus.Cancelled : s.Status)
                .SetProperty(s => s.FinishedAt, s => s.Status == SweepStatus.Queued ? now : s.FinishedAt), cancellationToken);
        var sweep = await db.Sweeps.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (sweep is null)
        {
            return NotFoundSweep(id);
        }

        if (changed == 0)
        {
            return Problems.Conflict("Sweep already finished", $"Sweep {id} is {sweep.Status}; only a queued or running sweep can be cancelled.");
        }

        audit.Record(db, http.User, "sweep.cancel", $"sweep:{id}", new { status = sweep.Status.ToString() });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Accepted($"/api/v1/sweeps/{id}", await SweepView.ReadAsync(db, sweep, cancellationToken));
    }

    private static NotFound<ProblemDetails> NotFoundSweep(long id) => Problems.NotFound("Sweep not found", $"There is no sweep {id}.");
}
