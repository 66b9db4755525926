using System.Net;
using System.Net.Http.Json;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ProvisioningFleet.Api.Fleet;
using ProvisioningFleet.Api.Jobs;
using ProvisioningFleet.Api.Policy;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.Devices;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Engine;

[Collection(PostgresCollection.Name)]
public sealed class PolicyAndFleetTests(PostgresFixture postgres) : EngineFleetTest(postgres)
{
    [Fact]
    public async Task Put_replaces_the_whole_policy_and_moves_the_recurring_sweep()
    {
        var response = await Fleet.Admin.PutAsJsonAsync("/api/v1/policy", new { sweepCron = "*/15 * * * *", graceMinutes = 30, remediateAfterMinutes = 120 });
        var policy = await response.Content.ReadFromJsonAsync<PolicyView>(Json.Options);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("*/15 * * * *", 30, 120, 500, true, 180), (policy!.SweepCron, policy.GraceMinutes, policy.RemediateAfterMinutes, policy.MaxRemediationsPerSweep, policy.AutoRemediate, policy.HistoryRetentionDays));
        using var connection = Api.Services.GetRequiredService<JobStorage>().GetConnection();
        Assert.Equal("*/15 * * * *", connection.GetRecurringJobs().Single(j => j.Id == SweepSchedule.SweepJobId).Cron);
        Assert.Contains(connection.GetRecurringJobs(), j => j.Id == SweepSchedule.PruneJobId);
        await using var db = Api.CreateDbContext();
        var audit = await db.AuditEntries.Where(a => a.Action == "policy.update").Select(a => a.Details).ToListAsync();
        Assert.Contains(audit, details => details!.Contains("*/15 * * * *"));

        var defaults = await (await Fleet.Admin.PutAsJsonAsync("/api/v1/policy", new { })).Content.ReadFromJsonAsync<PolicyView>(Json.Options);
        Assert.Equal(("0 * * * *", 60, (int?)null), (defaults!.SweepCron, defaults.GraceMinutes, defaults.RemediateAfterMinutes));
    }

    [Fact]
    public async Task Bad_policies_are_refused_naming_each_field_and_change_nothing()
    {
        var before = await Fleet.Admin.GetStringAsync("/api/v1/policy");

        var response = await Fleet.Admin.PutAsJsonAsync("/api/v1/policy",
            new { sweepCron = "every hour", graceMinutes = -1, maxRemediationsPerSweep = -5, historyRetentionDays = 0, remediateAfterMinutes = 0 });
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        foreach (var field in new[] { "sweepCron", "graceMinutes", "maxRemediationsPerSweep", "historyRetentionDays", "remediateAfterMinutes" })
        {
            Assert.Contains(field, text);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await Fleet.Admin.PutAsync("/api/v1/policy", new StringContent("{\"graceMinutes\": \"soon\"}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(before, await Fleet.Admin.GetStringAsync("/api/v1/policy"));
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.PutAsJsonAsync("/api/v1/policy", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync("/api/v1/policy")).StatusCode);
    }

    [Fact]
    public async Task The_fleet_summary_counts_states_fixes_and_the_last_sweep()
    {
        await Fleet.AddAsync("sum-fine");
        await Fleet.AddAsync("sum-stuck", d => d.EnterProvisioningMode(TimeSpan.FromDays(3)));
        await Fleet.AddAsync("sum-busy", d => { d.EnterProvisioningMode(TimeSpan.FromDays(3)); d.RunningProcesses = ["TSManager.exe"]; });
        var before = (await Fleet.Admin.GetFromJsonAsync<FleetSummary>("/api/v1/fleet/summary", Json.Options))!;

        var sweep = await Fleet.SweepAsync(Fleet.Admin);
        var after = (await Fleet.Admin.GetFromJsonAsync<FleetSummary>("/api/v1/fleet/summary", Json.Options))!;

        Assert.Equal(before.Total, after.Total);
        Assert.Equal(before.RemediatedLast24h + 1, after.RemediatedLast24h);
        Assert.Equal(sweep.Id, after.LastSweep?.Id);
        Assert.Equal(after.Total, after.ByState.Values.Sum());
        Assert.Equal(after.ByState[nameof(DeviceState.Overdue)], after.Overdue);
        Assert.True(after.ByState[nameof(DeviceState.TaskSequenceRunning)] >= 1);
    }

    [Fact]
    public async Task History_older_than_the_retention_is_pruned()
    {
        var device = await Fleet.AddAsync("pruned");
        var id = Fleet.IdOf(device);
        await using (var db = Api.CreateDbContext())
        {
            db.DeviceStateChanges.AddRange(
                new DeviceStateChange { DeviceId = id, At = DateTimeOffset.UtcNow.AddDays(-181), FromState = DeviceState.Unknown, ToState = DeviceState.Healthy },
                new DeviceStateChange { DeviceId = id, At = DateTimeOffset.UtcNow.AddDays(-179), FromState = DeviceState.Healthy, ToState = DeviceState.Overdue });
            await db.SaveChangesAsync();
        }

        using (var scope = Api.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<HistoryPruning>().PruneAsync(CancellationToken.None);
        }

        await using var check = Api.CreateDbContext();
        var left = await check.DeviceStateChanges.Where(c => c.DeviceId == id).Select(c => c.ToState).ToListAsync();
        Assert.Equal([DeviceState.Overdue], left);
    }
}
