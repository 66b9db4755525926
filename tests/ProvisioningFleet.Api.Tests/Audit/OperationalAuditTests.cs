using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Api.Tests.Operators;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Audit;

/// <summary>Operational actions leave audit entries naming who did them; sweeps queue one per tag at a time.</summary>
[Collection(PostgresCollection.Name)]
public sealed class OperationalAuditTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    // No job server: queued sweeps stay queued, so "one queued per tag" is observable.
    protected override void ConfigureSettings(IDictionary<string, string?> settings) => settings["Fleet:Engine:RunJobs"] = "false";

    [Fact]
    public async Task Starting_and_cancelling_a_sweep_are_audited_with_who()
    {
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        var started = await operatorClient.PostAsJsonAsync("/api/v1/sweeps", new { tag = "audit-start", dryRun = true });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        using var admin = Api.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/v1/sweeps/{id}/cancel", null)).StatusCode);

        var entries = await EntriesForAsync(admin, $"sweep:{id}");
        var start = Assert.Single(entries, e => e.GetProperty("action").GetString() == "sweep.start");
        Assert.StartsWith("test-Operator (key ", start.GetProperty("actor").GetString());
        var cancel = Assert.Single(entries, e => e.GetProperty("action").GetString() == "sweep.cancel");
        Assert.StartsWith("FLEET_ADMIN_API_KEY", cancel.GetProperty("actor").GetString());

        // A cancel that changes nothing (already cancelled) leaves no second entry.
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/v1/sweeps/{id}/cancel", null)).StatusCode);
        Assert.Single(await EntriesForAsync(admin, $"sweep:{id}"), e => e.GetProperty("action").GetString() == "sweep.cancel");
    }

    [Fact]
    public async Task One_queued_sweep_per_tag_at_a_time()
    {
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        var first = await operatorClient.PostAsJsonAsync("/api/v1/sweeps", new { tag = "Lab-Queue" });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var firstId = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        // Same tag (any case), even asked for six times at once: all refused while the first is queued.
        var again = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => operatorClient.PostAsJsonAsync("/api/v1/sweeps", new { tag = "lab-queue" })));
        foreach (var response in again)
        {
            var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
            Assert.Contains($"Sweep {firstId}", problem.GetProperty("detail").GetString());
        }

        Assert.Equal(HttpStatusCode.Accepted, (await operatorClient.PostAsJsonAsync("/api/v1/sweeps", new { tag = "other-queue" })).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await operatorClient.PostAsync($"/api/v1/sweeps/{firstId}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await operatorClient.PostAsJsonAsync("/api/v1/sweeps", new { tag = "lab-queue" })).StatusCode);
    }

    [Fact]
    public async Task A_manual_probe_is_audited()
    {
        using var admin = Api.CreateAdminClient();
        var created = await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "audited-probe.example", endpoint = "http://127.0.0.1:1/wsman" });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/devices/{id}/probe", null)).StatusCode);

        var probe = Assert.Single(await EntriesForAsync(admin, "device:audited-probe.example"), e => e.GetProperty("action").GetString() == "device.probe");
        Assert.StartsWith("test-Operator (key ", probe.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Dashboard_job_actions_are_audited_and_its_live_statistics_are_not()
    {
        using var session = await BrowserSession.SignInAsync(Api, await Api.KeyForAsync(ApiKeyRole.Operator));
        var triggered = await session.PostDashboardCommandAsync("/hangfire/recurring/trigger", [new("jobs[]", SweepSchedule.SweepJobId)], withToken: true);
        Assert.Equal(HttpStatusCode.NoContent, triggered.StatusCode);
        var forged = await session.PostDashboardCommandAsync("/hangfire/recurring/trigger", [new("jobs[]", SweepSchedule.SweepJobId)], withToken: false);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        (await session.PostDashboardCommandAsync("/hangfire/stats", [new("metrics[]", "enqueued:count")], withToken: true)).EnsureSuccessStatusCode();

        using var admin = Api.CreateAdminClient();
        var entry = Assert.Single(await EntriesForAsync(admin, $"job:{SweepSchedule.SweepJobId}"));
        Assert.Equal("dashboard.trigger", entry.GetProperty("action").GetString());
        Assert.StartsWith("test-Operator (key ", entry.GetProperty("actor").GetString());
        var all = await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?pageSize=500");
        Assert.DoesNotContain(all.GetProperty("items").EnumerateArray(), e => e.GetProperty("target").GetString()!.Contains("stats", StringComparison.Ordinal));
    }

    private static async Task<List<JsonElement>> EntriesForAsync(HttpClient admin, string target)
    {
        var page = await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?pageSize=500");
        return page.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("target").GetString() == target).ToList();
    }
}
