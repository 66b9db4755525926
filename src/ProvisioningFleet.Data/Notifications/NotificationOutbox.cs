using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Remediations;

namespace ProvisioningFleet.Data.Notifications;

/// <summary>
/// Writes events in the caller's transaction, beside the state change that caused them, so that a change
/// is never committed without its event (nor the reverse). Nothing here talks to a channel: delivery
/// happens later, elsewhere, and can neither slow nor fail the caller.
/// </summary>
public static class NotificationOutbox
{
    private static readonly JsonSerializerOptions DataJson = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Events for devices whose recorded state became <c>Overdue</c> or <c>IdentityMismatch</c>; called after the
    /// device rows were updated, inside the open transaction.
    /// </summary>
    public static async Task RecordStateChangesAsync(
        FleetDbContext db, IEnumerable<(long DeviceId, string FromState, Verdict Verdict)> changes, long? sweepId, CancellationToken cancellationToken)
    {
        var notable = changes.Where(c => c.Verdict.State is DeviceState.Overdue or DeviceState.IdentityMismatch).ToArray();
        if (notable.Length == 0)
        {
            return;
        }

        var transaction = (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Events are recorded inside the transaction of the change that caused them.");
        await using var insert = new NpgsqlCommand(InsertStateEvents, (NpgsqlConnection)db.Database.GetDbConnection(), transaction);
        insert.Parameters.AddWithValue("id", notable.Select(c => c.DeviceId).ToArray());
        insert.Parameters.AddWithValue("from_state", notable.Select(c => c.FromState).ToArray());
        insert.Parameters.AddWithValue("to_state", notable.Select(c => c.Verdict.State.ToString()).ToArray());
        insert.Parameters.AddWithValue("at", notable.Select(c => c.Verdict.CheckedAt.ToUniversalTime()).ToArray());
        insert.Parameters.Add(new NpgsqlParameter("sweep_id", NpgsqlDbType.Bigint) { Value = (object?)sweepId ?? DBNull.Value });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Adds the event of a finished remediation to <paramref name="db"/>, saved by the caller's SaveChanges:
    /// succeeded, failed, or stopped because the client answering was not the one the verdict was made on.
    /// </summary>
    public static void AddRemediationFinished(FleetDbContext db, Remediation record)
    {
        var type = record switch
        {
            { Outcome: RemediationOutcome.Remediated } => NotificationEventTypes.RemediationSucceeded,
            { Outcome: RemediationOutcome.Failed } => NotificationEventTypes.RemediationFailed,
            { Outcome: RemediationOutcome.Skipped, SkipReason: RemediationSkipReason.ClientChanged } => NotificationEventTypes.DeviceIdentityMismatch,
            _ => null,
        };
        if (type is null)
        {
            return;
        }

        db.Add(new NotificationEvent
        {
            Type = type,
            OccurredAt = record.FinishedAt ?? record.RequestedAt,
            DeviceId = record.DeviceId,
            SweepId = record.SweepId,
            Data = JsonSerializer.Serialize(new
            {
                remediationId = record.Id,
                deviceId = record.DeviceId,
                hostName = record.HostName,
                outcome = record.Outcome.ToString(),
                skipReason = record.SkipReason?.ToString(),
                clientId = record.ClientId,
                trigger = record.Trigger.ToString(),
                actor = record.Actor,
                sweepId = record.SweepId,
                verified = record.Verified,
                fixSent = record.FixSent,
                error = record.ErrorMessage is null ? null : new { category = record.ErrorCategory?.ToString(), message = record.ErrorMessage, code = record.ErrorCode },
            }, DataJson),
        });
    }

    /// <summary>The event of a sweep that ended Completed or Failed (a cancelled one tells nobody); inside the transaction that ended it.</summary>
    public static Task RecordSweepFinishedAsync(FleetDbContext db, long sweepId, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO notification_events (type, occurred_at, sweep_id, data)
            SELECT CASE s.status WHEN 'Completed' THEN {NotificationEventTypes.SweepCompleted} ELSE {NotificationEventTypes.SweepFailed} END,
                   s.finished_at, s.id,
                   jsonb_build_object('sweepId', s.id, 'status', s.status, 'trigger', s.trigger, 'tag', s.tag, 'dryRun', s.dry_run,
                       'startedAt', s.started_at, 'finishedAt', s.finished_at, 'total', s.total, 'probed', s.probed, 'byState', s.by_state,
                       'remediated', s.remediated, 'remediationsFailed', s.remediations_failed, 'skipped', s.skipped,
                       'wouldRemediate', s.would_remediate, 'error', s.error)
            FROM sweeps s WHERE s.id = {sweepId} AND s.status IN ('Completed', 'Failed')
            """, cancellationToken);

    private const string InsertStateEvents = $"""
        INSERT INTO notification_events (type, occurred_at, device_id, sweep_id, data)
        SELECT CASE v.to_state WHEN 'Overdue' THEN '{NotificationEventTypes.DeviceOverdue}' ELSE '{NotificationEventTypes.DeviceIdentityMismatch}' END,
               v.at, d.id, @sweep_id,
               jsonb_build_object('deviceId', d.id, 'hostName', d.host_name, 'fromState', v.from_state, 'state', v.to_state,
                   'sweepId', @sweep_id, 'overdueAt', d.overdue_at, 'provisioningEnabledAt', d.provisioning_enabled_at,
                   'effectiveTimeoutMinutes', d.effective_timeout_minutes, 'clientId', d.client_id,
                   'expectedClientId', d.expected_client_id)
        FROM unnest(@id, @from_state, @to_state, @at) AS v(id, from_state, to_state, at)
        JOIN devices d ON d.id = v.id
        """;
}
