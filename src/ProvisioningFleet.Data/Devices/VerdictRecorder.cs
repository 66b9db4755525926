using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Notifications;

namespace ProvisioningFleet.Data.Devices;

/// <summary>A verdict to store for one device.</summary>
public sealed record DeviceVerdict(long DeviceId, Verdict Verdict);

/// <summary>
/// Stores verdicts a batch at a time, in one statement: the device rows always (last checked time and the verdict),
/// a history row only when the state changed, so that an hourly sweep of a steady fleet writes no
/// history at all. Runs inside the caller's transaction.
/// </summary>
public static class VerdictRecorder
{
    /// <summary>Returns how many devices changed state; <paramref name="sweepId"/> goes into the history rows when a sweep made the verdicts.</summary>
    public static async Task<int> RecordAsync(FleetDbContext db, IReadOnlyList<DeviceVerdict> verdicts, long? sweepId, CancellationToken cancellationToken)
    {
        if (verdicts.Count == 0)
        {
            return 0;
        }

        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var transaction = (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Verdicts are recorded inside a transaction.");

        // One statement per batch: lock, update every row, write history for the changes, and say which changed.
        var changed = new List<(long DeviceId, string FromState)>();
        await using (var record = new NpgsqlCommand(RecordVerdicts, connection, transaction))
        {
            AddVerdictColumns(record, verdicts);
            record.Parameters.Add(new NpgsqlParameter("sweep_id", NpgsqlDbType.Bigint) { Value = (object?)sweepId ?? DBNull.Value });
            await using var reader = await record.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                changed.Add((reader.GetInt64(0), reader.GetString(1)));
            }
        }

        if (changed.Count > 0)
        {
            var byId = verdicts.ToDictionary(v => v.DeviceId, v => v.Verdict);
            await NotificationOutbox.RecordStateChangesAsync(db, changed.Select(c => (c.DeviceId, c.FromState, byId[c.DeviceId])), sweepId, cancellationToken);
        }

        return changed.Count;
    }

    // unnest flattens an array of arrays, so each row's signals travel as one JSON array text and become text[] here.
    private const string SignalsArray =
        "CASE WHEN v.ts_signals IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(v.ts_signals::jsonb)) END";

    // A failed probe tells nothing new about the client: it keeps the facts of the last successful one.
    // The rows are locked in id order first (two batches touching the same devices, a sweep and a manual probe, cannot
    // deadlock); the update joins the locked rows, so it touches no row before "previous" has locked it, and "previous"
    // keeps the state each row had, for the history row of a change. A device deleted meanwhile is simply not there.
    private const string RecordVerdicts = $$"""
        WITH v AS (
            SELECT * FROM unnest(@id, @state, @checked_at, @reached, @in_mode, @enabled_at, @max_minutes, @timeout_minutes, @overdue_at, @skew, @ts,
                                 @client_id, @first_seen, @error_category, @error_message, @error_code, @ts_signals)
                AS v(id, state, checked_at, reached, in_mode, enabled_at, max_minutes, timeout_minutes, overdue_at, skew, ts,
                     client_id, first_seen, error_category, error_message, error_code, ts_signals)
        ),
        previous AS (
            SELECT d.id, d.state FROM devices d WHERE d.id = ANY(@id) ORDER BY d.id FOR UPDATE
        ),
        updated AS (
            UPDATE devices AS d SET
                state = v.state,
                last_checked_at = v.checked_at,
                first_seen_in_provisioning_at = v.first_seen,
                in_provisioning_mode = CASE WHEN v.reached THEN v.in_mode ELSE d.in_provisioning_mode END,
                provisioning_enabled_at = CASE WHEN v.reached THEN v.enabled_at ELSE d.provisioning_enabled_at END,
                provisioning_max_minutes = CASE WHEN v.reached THEN v.max_minutes ELSE d.provisioning_max_minutes END,
                effective_timeout_minutes = CASE WHEN v.reached THEN v.timeout_minutes ELSE d.effective_timeout_minutes END,
                overdue_at = CASE WHEN v.reached THEN v.overdue_at ELSE d.overdue_at END,
                clock_skew_seconds = CASE WHEN v.reached THEN v.skew ELSE d.clock_skew_seconds END,
                task_sequence_running = CASE WHEN v.reached THEN v.ts ELSE d.task_sequence_running END,
                task_sequence_signals = CASE WHEN v.reached THEN {{SignalsArray}} ELSE d.task_sequence_signals END,
                client_id = CASE WHEN v.reached THEN v.client_id ELSE d.client_id END,
                last_error_category = v.error_category,
                last_error_message = v.error_message,
                last_error_code = v.error_code
            FROM v JOIN previous p ON p.id = v.id
            WHERE d.id = v.id
            RETURNING d.id
        ),
        changed AS (
            SELECT v.*, p.state AS from_state FROM v JOIN previous p ON p.id = v.id JOIN updated u ON u.id = v.id WHERE p.state <> v.state
        ),
        history AS (
            INSERT INTO device_state_changes (device_id, at, from_state, to_state, sweep_id, in_provisioning_mode, provisioning_enabled_at,
                                              overdue_at, task_sequence_running, task_sequence_signals, client_id, error_category, error_message, error_code)
            SELECT v.id, v.checked_at, v.from_state, v.state, @sweep_id, v.in_mode, v.enabled_at, v.overdue_at, v.ts, {{SignalsArray}}, v.client_id,
                   v.error_category, v.error_message, v.error_code
            FROM changed v
        )
        SELECT id, from_state FROM changed ORDER BY id
        """;

    private static void AddVerdictColumns(NpgsqlCommand command, IReadOnlyList<DeviceVerdict> rows)
    {
        var p = command.Parameters;
        p.AddWithValue("id", rows.Select(r => r.DeviceId).ToArray());
        p.AddWithValue("state", rows.Select(r => r.Verdict.State.ToString()).ToArray());
        p.AddWithValue("checked_at", rows.Select(r => r.Verdict.CheckedAt.ToUniversalTime()).ToArray());
        p.AddWithValue("reached", rows.Select(r => r.Verdict.Error is null).ToArray());
        p.AddWithValue("in_mode", rows.Select(r => r.Verdict.InProvisioningMode).ToArray());
        p.AddWithValue("enabled_at", rows.Select(r => r.Verdict.ProvisioningEnabledAt?.ToUniversalTime()).ToArray());
        p.AddWithValue("max_minutes", rows.Select(r => r.Verdict.ProvisioningMaxMinutes).ToArray());
        p.AddWithValue("timeout_minutes", rows.Select(r => r.Verdict.EffectiveTimeoutMinutes).ToArray());
        p.AddWithValue("overdue_at", rows.Select(r => r.Verdict.OverdueAt?.ToUniversalTime()).ToArray());
        p.AddWithValue("skew", rows.Select(r => r.Verdict.ClockSkewSeconds).ToArray());
        p.AddWithValue("ts", rows.Select(r => r.Verdict.TaskSequenceRunning).ToArray());
        p.AddWithValue("client_id", rows.Select(r => r.Verdict.ClientId).ToArray());
        p.AddWithValue("first_seen", rows.Select(r => r.Verdict.ProvisioningFirstSeenAt?.ToUniversalTime()).ToArray());
        p.AddWithValue("error_category", rows.Select(r => r.Verdict.Error?.Category.ToString()).ToArray());
        p.AddWithValue("error_message", rows.Select(r => FleetLimits.Truncate(r.Verdict.Error?.Message, FleetLimits.ErrorMessage)).ToArray());
        p.AddWithValue("error_code", rows.Select(r => r.Verdict.Error?.Code).ToArray());
        p.AddWithValue("ts_signals", rows.Select(r => r.Verdict.TaskSequenceSignals is { } signals ? JsonSerializer.Serialize(signals) : null).ToArray());
    }
}
