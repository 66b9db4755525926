using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.Remediations;

namespace ProvisioningFleet.Api.Remediations;

/// <summary>POST /api/v1/devices/{id}/remediate.</summary>
public sealed record RemediateInput(bool? DryRun, string? Justification, bool? Override, bool? IgnoreTaskSequence);

public static class RemediationEndpoints
{
    /// <summary>The runner shared by the manual endpoint and sweeps; needs the engine (AddProvisioningEngine).</summary>
    public static IHostApplicationBuilder AddRemediations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RemediationRunner>();
        builder.Services.AddHostedService<RemediationReconciliation>();
        return builder;
    }

    public static IEndpointRouteBuilder MapRemediationEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/devices/{id:long}/remediate", RemediateAsync).RequireAuthorization(FleetPolicies.Operator)
            .WithTags("Devices").WithName("RemediateDevice")
            .WithSummary("Re-probes the device and fixes it under the sweep's safety rules; not Overdue gives a Skipped record with the reason. override/ignoreTaskSequence: Admin.");
        endpoints.MapGet("/api/v1/remediations", ListAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithTags("Remediations").WithName("ListRemediations")
            .WithSummary("The trail of fixes, newest first. Filters: deviceId, outcome, since, sweepId.");
        return endpoints;
    }

    private static async Task<Results<Ok<RemediationView>, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ValidationProblem, ProblemHttpResult>> RemediateAsync(
        long id,
        RemediateInput? input,
        HttpContext http,
        FleetDbContext db,
        DeviceVerdicts verdicts,
        RemediationRunner runner,
        IAuditTrail audit,
        CancellationToken cancellationToken)
    {
        var request = new RemediationRequest(input?.DryRun ?? false, input?.Override ?? false, input?.IgnoreTaskSequence ?? false);
        var errors = new ValidationErrors();
        errors.MaxLength("justification", input?.Justification, FleetLimits.Justification);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if ((request.Override || request.IgnoreTaskSequence) && !http.User.HasRole(ApiKeyRole.Admin))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Admin only",
                detail: "override and ignoreTaskSequence lift a safety rule: only an Admin may ask for them.");
        }

        var device = await db.Devices.AsNoTracking().Include(d => d.Credential).SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (device is null)
        {
            return Problems.DeviceNotFound(id);
        }

        if (await db.Remediations.AsNoTracking().FirstOrDefaultAsync(r => r.DeviceId == id && r.Outcome == RemediationOutcome.InProgress, cancellationToken) is { } running)
        {
            // The same rule as the sweep's and the reconciliation's: a record whose worker is gone is closed, not a lock for ever.
            if (!runner.IsStale(running))
            {
                return UnderWay(running);
            }

            await runner.ReconcileAsync(running.Id, cancellationToken);
        }

        var stored = await db.Policies.AsNoTracking().SingleAsync(cancellationToken);
        var verdict = await verdicts.ProbeAndRecordAsync(device, cancellationToken);
        var context = new RemediationContext(RemediationTrigger.Manual, http.User.ActorName(), null, input?.Justification, request,
            new RemediationPolicy(stored.TriggerPolicyRetrieval));

        var attempt = RemediationPolicy.Evaluate(verdict, device.RemediationExcluded, request) is { } reason
            ? await runner.RecordSkippedAsync(device, verdict, context, reason, cancellationToken)
            : await runner.RemediateAsync(device, device.Credential, verdict, context, AuditOverride, cancellationToken);

        switch (attempt)
        {
            case RemediationAttempt.Finished finished:
                if (finished.VerdictAfter is { } after)
                {
                    await verdicts.RecordAsync(id, after, CancellationToken.None);
                }

                return TypedResults.Ok(RemediationView.From(finished.Record));
            case RemediationAttempt.Locked locked:
                return UnderWay(locked.Holder);
            default:
                throw new InvalidOperationException($"A manual remediation cannot end as {attempt.GetType().Name}.");
        }

        // The override is recorded with the InProgress record, in one commit: no fix without its audit entry.
        void AuditOverride(FleetDbContext auditDb)
        {
            if (request.Override || request.IgnoreTaskSequence)
            {
                audit.Record(auditDb, http.User, "device.remediate.override", $"device/{id}", new
                {
                    device.HostName,
                    request.Override,
                    request.IgnoreTaskSequence,
                    request.DryRun,
                    Justification = input?.Justification,
                    State = verdict.State.ToString(),
                });
            }
        }
    }

    private static Conflict<ProblemDetails> UnderWay(Remediation holder) =>
        Problems.Conflict("Remediation under way",
            $"Remediation {holder.Id} of device {holder.DeviceId} ({holder.Trigger}, by {holder.Actor}) started at {holder.RequestedAt:o} and has not finished.");

    private static async Task<Results<Ok<PagedList<RemediationView>>, ValidationProblem>> ListAsync(
        FleetDbContext db, string[]? deviceId, string[]? outcome, string? since, string[]? sweepId, string? page, string? pageSize, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var paging = PageRequest.Parse(page, pageSize, errors);
        var outcomes = errors.ParseEnums<RemediationOutcome>("outcome", outcome);
        var devices = ParseIds("deviceId", deviceId, errors);
        var sweeps = ParseIds("sweepId", sweepId, errors);
        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
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

        var remediations = db.Remediations.AsNoTracking();
        if (devices.Length > 0)
        {
            remediations = remediations.Where(r => devices.Contains(r.DeviceId));
        }

        if (sweeps.Length > 0)
        {
            remediations = remediations.Where(r => r.SweepId != null && sweeps.Contains(r.SweepId.Value));
        }

        if (outcomes.Length > 0)
        {
            remediations = remediations.Where(r => outcomes.Contains(r.Outcome));
        }

        if (from is { } fromTime)
        {
            remediations = remediations.Where(r => r.RequestedAt >= fromTime);
        }

        return TypedResults.Ok(await paging.ToPagedListAsync(
            remediations, r => r.OrderByDescending(x => x.RequestedAt).ThenByDescending(x => x.Id), RemediationView.Projection, cancellationToken));
    }

    private static long[] ParseIds(string field, string[]? values, ValidationErrors errors)
    {
        var ids = new List<long>();
        foreach (var value in values ?? [])
        {
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                ids.Add(id);
            }
            else
            {
                errors.Add(field, $"'{value}' is not an id.");
            }
        }

        return ids.ToArray();
    }
}
