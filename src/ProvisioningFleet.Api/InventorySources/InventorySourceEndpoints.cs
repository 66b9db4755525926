using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Core.Inventory;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.InventorySources;

namespace ProvisioningFleet.Api.InventorySources;

public static class InventorySourceEndpoints
{
    /// <summary>Inventory sources: the sync service, its Hangfire jobs and their schedules (needs the engine's Hangfire).</summary>
    public static IHostApplicationBuilder AddInventorySources(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminServiceOptions>().Bind(builder.Configuration.GetSection(AdminServiceOptions.Section))
            .Validate(o => o.RequestTimeout > TimeSpan.Zero && o.ConnectTimeout > TimeSpan.Zero && o.MaxReplyBytes > 0 && o.MaxRows > 0 && o.ResourceBatchSize > 0,
                "Fleet:Inventory bounds (RequestTimeout, ConnectTimeout, MaxReplyBytes, MaxRows, ResourceBatchSize) must be positive.")
            .ValidateOnStart();
        builder.Services.AddTransient<InventorySync>();
        builder.Services.AddSingleton<InventorySyncSchedule>();
        builder.Services.AddHostedService<InventorySyncSchedule.Registration>();
        return builder;
    }

    public static IEndpointRouteBuilder MapInventorySourceEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var sources = endpoints.MapGroup("/api/v1/inventory-sources").WithTags("Inventory sources");
        sources.MapGet("/", ListAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("ListInventorySources").WithSummary("Inventory sources by name, each with its device count and latest sync run.");
        sources.MapGet("/{id:long}", GetAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("GetInventorySource").WithSummary("One inventory source with its device count and latest sync run.");
        sources.MapPost("/", CreateAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("CreateInventorySource").WithSummary("Follows collections of a ConfigMgr site; syncs on syncCron. 409 when the name is taken.");
        sources.MapPut("/{id:long}", ReplaceAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("ReplaceInventorySource").WithSummary("Replaces a source's settings; its devices follow at the next sync.");
        sources.MapDelete("/{id:long}", DeleteAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("DeleteInventorySource").WithSummary("Deletes a source; its devices stay, as manual devices, disabled.");
        sources.MapPost("/{id:long}/sync", SyncAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("SyncInventorySource").WithSummary("Starts a sync now (dryRun: report what would change, change nothing). 409 while one is under way.");
        sources.MapGet("/{id:long}/runs", ListRunsAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("ListInventorySyncRuns").WithSummary("A source's sync runs, newest first.");
        sources.MapGet("/runs/{runId:long}", GetRunAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("GetInventorySyncRun").WithSummary("One sync run: counts, every skipped member with its reason, and the error of a failed run.");
        return endpoints;
    }

    private static async Task<Results<Ok<PagedList<InventorySourceView>>, ValidationProblem>> ListAsync(
        FleetDbContext db, string? page, string? pageSize, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var paging = PageRequest.Parse(page, pageSize, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var counted = await PageRequest.CountUpToBoundAsync(db.InventorySources, cancellationToken);
        var ids = await db.InventorySources.OrderBy(s => s.Name).Skip(paging.Skip).Take(paging.PageSize).Select(s => s.Id).ToListAsync(cancellationToken);
        var views = await ViewsAsync(db, ids, cancellationToken);
        return TypedResults.Ok(paging.Answer(views, counted));
    }

    private static async Task<Results<Ok<InventorySourceView>, NotFound<ProblemDetails>>> GetAsync(long id, FleetDbContext db, CancellationToken cancellationToken) =>
        (await ViewsAsync(db, [id], cancellationToken)) is [var view] ? TypedResults.Ok(view) : NotFound(id);

    private static async Task<Results<Created<InventorySourceView>, ValidationProblem, Conflict<ProblemDetails>>> CreateAsync(
        InventorySourceInput input, FleetDbContext db, IAuditTrail audit, InventorySyncSchedule schedule, DeviceEndpointRules endpoints, TimeProvider time,
        HttpContext context, CancellationToken cancellationToken)
    {
        var (valid, problem) = await ValidateAsync(input, db, endpoints, cancellationToken);
        if (valid is null)
        {
            return problem!;
        }

        if (await db.InventorySources.AnyAsync(s => s.Name == valid.Name, cancellationToken))
        {
            return NameTaken(valid.Name);
        }

        var now = time.GetUtcNow();
        var source = new InventorySource { CreatedAt = now };
        Apply(source, valid, now);
        db.InventorySources.Add(source);
        audit.Record(db, context.User, "inventory-source.create", $"inventory-source:{source.Name}", Details(source));
        await db.SaveChangesAsync(cancellationToken);
        schedule.Apply(source.Id, source.SyncCron, source.Enabled);
        var view = (await ViewsAsync(db, [source.Id], cancellationToken)).Single();
        return TypedResults.Created($"/api/v1/inventory-sources/{source.Id}", view);
    }

    private static async Task<Results<Ok<InventorySourceView>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> ReplaceAsync(
        long id, InventorySourceInput input, FleetDbContext db, IAuditTrail audit, InventorySyncSchedule schedule, DeviceEndpointRules endpoints,
        TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        var (valid, problem) = await ValidateAsync(input, db, endpoints, cancellationToken);
        if (valid is null)
        {
            return problem!;
        }

        var source = await db.InventorySources.SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (source is null)
        {
            return NotFound(id);
        }

        if (await db.InventorySources.AnyAsync(s => s.Name == valid.Name && s.Id != id, cancellationToken))
        {
            return NameTaken(valid.Name);
        }

        Apply(source, valid, time.GetUtcNow());
        audit.Record(db, context.User, "inventory-source.update", $"inventory-source:{source.Name}", Details(source));
        await db.SaveChangesAsync(cancellationToken);
        schedule.Apply(source.Id, source.SyncCron, source.Enabled);
        return TypedResults.Ok((await ViewsAsync(db, [id], cancellationToken)).Single());
    }

    private static async Task<Results<NoContent, NotFound<ProblemDetails>>> DeleteAsync(
        long id, FleetDbContext db, IAuditTrail audit, InventorySyncSchedule schedule, TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        var source = await db.InventorySources.SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (source is null)
        {
            return NotFound(id);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Nobody follows the site for them any more: they stay for their history, but are not swept until someone decides.
        var released = await db.Devices.Where(d => d.InventorySourceId == id).ExecuteUpdateAsync(set => set
            .SetProperty(d => d.InventorySourceId, (long?)null)
            .SetProperty(d => d.SourceResourceId, (long?)null)
            .SetProperty(d => d.Enabled, false)
            .SetProperty(d => d.DisabledBySource, false)
            .SetProperty(d => d.UpdatedAt, time.GetUtcNow()), cancellationToken);
        db.InventorySources.Remove(source);
        audit.Record(db, context.User, "inventory-source.delete", $"inventory-source:{source.Name}", new { devicesReleased = released });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        schedule.Remove(id);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<InventorySyncRunView>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> SyncAsync(
        long id, SyncRequest? request, FleetDbContext db, InventorySync sync, IAuditTrail audit, HttpContext context, CancellationToken cancellationToken)
    {
        var source = await db.InventorySources.AsNoTracking().Where(s => s.Id == id).Select(s => new { s.Name }).SingleOrDefaultAsync(cancellationToken);
        if (source is null)
        {
            return NotFound(id);
        }

        var dryRun = request?.DryRun ?? false;
        var run = await sync.RequestAsync(id, InventorySyncTrigger.Manual, dryRun, context.User.ActorName(), cancellationToken);
        if (run is null)
        {
            var busy = await db.InventorySyncRuns.AsNoTracking().UnderWay(id)
                .Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken);
            return Problems.Conflict("A sync is under way", $"Sync run {busy} of '{source.Name}' has not finished; wait for it (GET /api/v1/inventory-sources/runs/{busy}).");
        }

        audit.Record(db, context.User, "inventory-source.sync", $"inventory-source:{source.Name}", new { runId = run.Id, dryRun });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted($"/api/v1/inventory-sources/runs/{run.Id}", InventorySyncRunView.From(run));
    }

    private static Task<Results<Ok<PagedList<InventorySyncRunView>>, ValidationProblem, NotFound<ProblemDetails>>> ListRunsAsync(
        long id, FleetDbContext db, string? page, string? pageSize, CancellationToken cancellationToken) =>
        PageRequest.ListAsync(
            page, pageSize, ct => db.InventorySources.AnyAsync(s => s.Id == id, ct), NotFound(id),
            db.InventorySyncRuns.AsNoTracking().Where(r => r.SourceId == id),
            runs => runs.OrderByDescending(r => r.RequestedAt).ThenByDescending(r => r.Id),
            InventorySyncRunView.Projection, cancellationToken);

    private static async Task<Results<Ok<InventorySyncRunView>, NotFound<ProblemDetails>>> GetRunAsync(long runId, FleetDbContext db, CancellationToken cancellationToken) =>
        await db.InventorySyncRuns.AsNoTracking().Where(r => r.Id == runId).Select(InventorySyncRunView.Projection).SingleOrDefaultAsync(cancellationToken) is { } run
            ? TypedResults.Ok(run)
            : Problems.NotFound("Sync run not found", $"There is no sync run {runId}.");

    private static async Task<(ValidInventorySource? Valid, ValidationProblem? Problem)> ValidateAsync(
        InventorySourceInput? input, FleetDbContext db, DeviceEndpointRules endpoints, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (input is null)
        {
            errors.Add("body", "A JSON body with the source is required.");
            return (null, errors.ToProblem());
        }

        var credentials = await db.Credentials.AsNoTracking().ToDictionaryAsync(c => c.Name, StringComparer.Ordinal, cancellationToken);
        var valid = InventorySourceRules.Validate(input, errors, credentials, endpoints);
        return valid is null ? (null, errors.ToProblem()) : (valid, null);
    }

    private static void Apply(InventorySource source, ValidInventorySource valid, DateTimeOffset now)
    {
        source.Name = valid.Name;
        source.AdminServiceUrl = valid.AdminServiceUrl.ToString();
        source.CredentialId = valid.CredentialId;
        source.CollectionIds = valid.CollectionIds;
        source.EndpointTemplate = valid.EndpointTemplate;
        source.Authentication = valid.Authentication;
        source.DeviceCredentialId = valid.DeviceCredentialId;
        source.Tags = valid.Tags;
        source.SyncCron = valid.SyncCron;
        source.OnRemoved = valid.OnRemoved;
        source.Enabled = valid.Enabled;
        source.CertificateSha256 = valid.CertificateSha256;
        source.UpdatedAt = now;
    }

    private static object Details(InventorySource s) => new
    {
        s.AdminServiceUrl,
        s.CollectionIds,
        s.EndpointTemplate,
        authentication = s.Authentication.ToString(),
        s.Tags,
        s.SyncCron,
        onRemoved = s.OnRemoved.ToString(),
        s.Enabled,
    };

    /// <summary>The views of <paramref name="ids"/> in that order: settings, credential names, device counts and latest runs in three queries.</summary>
    private static async Task<List<InventorySourceView>> ViewsAsync(FleetDbContext db, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        var sources = await db.InventorySources.AsNoTracking().Where(s => ids.Contains(s.Id))
            .Select(s => new { Source = s, Credential = s.Credential!.Name, DeviceCredential = s.DeviceCredential == null ? null : s.DeviceCredential.Name })
            .ToListAsync(cancellationToken);
        var counts = await db.Devices.AsNoTracking().Where(d => d.InventorySourceId != null && ids.Contains(d.InventorySourceId.Value))
            .GroupBy(d => d.InventorySourceId!.Value).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var lastRuns = new Dictionary<long, InventorySyncRunView>();
        foreach (var id in ids)
        {
            if (await db.InventorySyncRuns.AsNoTracking().Where(r => r.SourceId == id).OrderByDescending(r => r.RequestedAt).ThenByDescending(r => r.Id)
                    .Select(InventorySyncRunView.Projection).FirstOrDefaultAsync(cancellationToken) is { } run)
            {
                lastRuns[id] = run;
            }
        }

        return [.. ids.Join(sources, id => id, s => s.Source.Id, (_, s) => new InventorySourceView(
            s.Source.Id, s.Source.Name, s.Source.AdminServiceUrl, s.Credential, s.Source.CertificateSha256, s.Source.CollectionIds,
            s.Source.EndpointTemplate, s.Source.Authentication, s.DeviceCredential, s.Source.Tags, s.Source.SyncCron, s.Source.OnRemoved,
            s.Source.Enabled, counts.GetValueOrDefault(s.Source.Id), lastRuns.GetValueOrDefault(s.Source.Id), s.Source.CreatedAt, s.Source.UpdatedAt))];
    }

    private static NotFound<ProblemDetails> NotFound(long id) =>
        Problems.NotFound("Inventory source not found", $"There is no inventory source {id}.");

    private static Conflict<ProblemDetails> NameTaken(string name) =>
        Problems.Conflict("Inventory source name taken", $"An inventory source named '{name}' already exists.");
}
