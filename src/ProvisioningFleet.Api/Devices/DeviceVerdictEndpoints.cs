using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Devices;

/// <summary>A state change in a device's history.</summary>
public sealed record StateChangeView(
    long Id, DateTimeOffset At, DeviceState FromState, DeviceState ToState, long? SweepId, bool? InProvisioningMode,
    DateTimeOffset? ProvisioningEnabledAt, DateTimeOffset? OverdueAt, bool? TaskSequenceRunning, string? ClientId, ErrorView? Error,
    string[]? TaskSequenceSignals = null);

public static class DeviceVerdictEndpoints
{
    public static IEndpointRouteBuilder MapDeviceVerdictEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var devices = endpoints.MapGroup("/api/v1/devices").WithTags("Devices");
        devices.MapPost("/{id:long}/probe", ProbeAsync).RequireAuthorization(FleetPolicies.Operator)
            .WithName("ProbeDevice").WithSummary("Probes the device now and answers with the updated view; a failed probe is a state, not an HTTP error.");
        devices.MapGet("/{id:long}/history", HistoryAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("DeviceHistory").WithSummary("The device's state changes, newest first.");
        return endpoints;
    }

    private static async Task<Results<Ok<DeviceView>, NotFound<ProblemDetails>>> ProbeAsync(
        long id, HttpContext http, FleetDbContext db, DeviceVerdicts verdicts, IAuditTrail audit, SharedReads<PagedList<DeviceView>> reads,
        CancellationToken cancellationToken)
    {
        var device = await db.Devices.AsNoTracking().Include(d => d.Credential).SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (device is null)
        {
            return Problems.DeviceNotFound(id);
        }

        await verdicts.ProbeAndRecordAsync(device, cancellationToken);
        var view = await db.Devices.AsNoTracking().Where(d => d.Id == id).Select(DeviceView.Projection).SingleAsync(cancellationToken);
        // A manual probe uses the device's credential on someone's word: who, and what it found.
        audit.Record(db, http.User, "device.probe", $"device:{device.HostName}", new { id, state = view.State.ToString() });
        await db.SaveChangesAsync(cancellationToken);
        reads.Invalidate();
        return TypedResults.Ok(view);
    }

    private static Task<Results<Ok<PagedList<StateChangeView>>, ValidationProblem, NotFound<ProblemDetails>>> HistoryAsync(
        long id, FleetDbContext db, string? page, string? pageSize, CancellationToken cancellationToken) =>
        PageRequest.ListAsync(
            page, pageSize, ct => db.Devices.AnyAsync(d => d.Id == id, ct), Problems.DeviceNotFound(id),
            db.DeviceStateChanges.AsNoTracking().Where(c => c.DeviceId == id),
            changes => changes.OrderByDescending(c => c.At).ThenByDescending(c => c.Id),
            c => new StateChangeView(c.Id, c.At, c.FromState, c.ToState, c.SweepId, c.InProvisioningMode, c.ProvisioningEnabledAt, c.OverdueAt,
                c.TaskSequenceRunning, c.ClientId, c.ErrorCategory == null ? null : new ErrorView(c.ErrorCategory.Value, c.ErrorMessage, c.ErrorCode),
                c.TaskSequenceSignals),
            cancellationToken);
}
