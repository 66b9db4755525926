using System.Text.Json.Serialization;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Data.Policy;

namespace ProvisioningFleet.Api.Policy;

/// <summary>The fleet policy as GET /api/v1/policy shows it (api.md, "Policy").</summary>
public sealed record PolicyView(
    bool AutoRemediate,
    int? RemediateAfterMinutes,
    int GraceMinutes,
    int MaxRemediationsPerSweep,
    string SweepCron,
    bool TriggerPolicyRetrieval,
    int HistoryRetentionDays,
    DateTimeOffset? UpdatedAt,
    string? UpdatedBy)
{
    public static PolicyView From(FleetPolicy p) => new(
        p.AutoRemediate, p.RemediateAfterMinutes, p.GraceMinutes, p.MaxRemediationsPerSweep, p.SweepCron,
        p.TriggerPolicyRetrieval, p.HistoryRetentionDays, p.UpdatedAt, p.UpdatedBy);
}

/// <summary>
/// PUT /api/v1/policy: the whole policy; a field left out takes its default. Unknown fields and explicit nulls
/// are refused (only <c>remediateAfterMinutes</c> means something by null), so that a typo or a null sent by
/// mistake is an error rather than a silent reset to the default.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PolicyInput(
    [property: JsonConverter(typeof(NullRefusingConverter))] bool? AutoRemediate,
    int? RemediateAfterMinutes,
    [property: JsonConverter(typeof(NullRefusingConverter))] int? GraceMinutes,
    [property: JsonConverter(typeof(NullRefusingConverter))] int? MaxRemediationsPerSweep,
    [property: JsonConverter(typeof(NullRefusingConverter))] string? SweepCron,
    [property: JsonConverter(typeof(NullRefusingConverter))] bool? TriggerPolicyRetrieval,
    [property: JsonConverter(typeof(NullRefusingConverter))] int? HistoryRetentionDays)
{
    /// <summary>Checks every field and names each bad one in <paramref name="errors"/>; without any, fills <paramref name="policy"/>.</summary>
    public void ApplyTo(FleetPolicy policy, DateTimeOffset now, ValidationErrors errors)
    {
        var defaults = new FleetPolicy();
        if (RemediateAfterMinutes is < 1 or > 525_600)
        {
            errors.Add("remediateAfterMinutes", "remediateAfterMinutes must be null or a number of minutes from 1 to 525600 (a year).");
        }

        if (GraceMinutes is < 0 or > 525_600)
        {
            errors.Add("graceMinutes", "graceMinutes must be from 0 to 525600.");
        }

        if (MaxRemediationsPerSweep is < 0 or > 1_000_000)
        {
            errors.Add("maxRemediationsPerSweep", "maxRemediationsPerSweep must be from 0 (report only) to 1000000.");
        }

        var cron = SweepCron is null ? defaults.SweepCron : SweepCron.Trim();
        if (SweepCron is not null && !SweepSchedule.IsValidCron(cron))
        {
            errors.Add("sweepCron", $"'{SweepCron}' is not a cron expression with five fields (minute hour day-of-month month day-of-week), e.g. \"0 * * * *\".");
        }
        else if (SweepCron is not null && !SweepSchedule.Fires(cron, now))
        {
            errors.Add("sweepCron", $"'{SweepCron}' never fires (no date matches it in the next {SweepSchedule.FiresWithinYears} years): scheduled sweeps would stop.");
        }

        if (HistoryRetentionDays is < 1 or > 36_500)
        {
            errors.Add("historyRetentionDays", "historyRetentionDays must be from 1 to 36500.");
        }

        if (errors.Any)
        {
            return;
        }

        policy.AutoRemediate = AutoRemediate ?? defaults.AutoRemediate;
        policy.RemediateAfterMinutes = RemediateAfterMinutes;
        policy.GraceMinutes = GraceMinutes ?? defaults.GraceMinutes;
        policy.MaxRemediationsPerSweep = MaxRemediationsPerSweep ?? defaults.MaxRemediationsPerSweep;
        policy.SweepCron = cron;
        policy.TriggerPolicyRetrieval = TriggerPolicyRetrieval ?? defaults.TriggerPolicyRetrieval;
        policy.HistoryRetentionDays = HistoryRetentionDays ?? defaults.HistoryRetentionDays;
    }
}
