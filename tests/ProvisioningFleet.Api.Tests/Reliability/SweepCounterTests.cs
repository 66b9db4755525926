using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Data.Remediations;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Reliability;

/// <summary>
/// Issue 16, item 16: a shard killed after writing its records but before adding its tally left the sweep
/// under-reporting (1,020 remediated shown, 1,038 fixes sent). The counters now come from the records.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SweepCounterTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task Sweep_counters_are_the_records_not_the_shards_tallies()
    {
        using var admin = Api.CreateAdminClient();
        var created = await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "pc-counted.corp.example" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var deviceId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        var other = await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "pc-counted-2.corp.example" });
        var otherId = JsonDocument.Parse(await other.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        // As a crash leaves it: the records written, the tallies on the sweep row never added.
        long sweepId;
        await using (var db = Api.CreateDbContext())
        {
            var now = DateTimeOffset.UtcNow;
            var sweep = new Sweep { Status = SweepStatus.Completed, Trigger = SweepTrigger.Manual, RequestedBy = "test", RequestedAt = now, StartedAt = now, FinishedAt = now, Total = 2, Probed = 2, Remediated = 0 };
            db.Sweeps.Add(sweep);
            await db.SaveChangesAsync();
            sweepId = sweep.Id;
            db.Remediations.Add(new Remediation { DeviceId = deviceId, HostName = "pc-counted.corp.example", Trigger = RemediationTrigger.Sweep, Actor = "sweep", SweepId = sweepId, RequestedAt = now, FinishedAt = now, Outcome = RemediationOutcome.Remediated, FixSent = true, Verified = true });
            db.Remediations.Add(new Remediation { DeviceId = otherId, HostName = "pc-counted-2.corp.example", Trigger = RemediationTrigger.Sweep, Actor = "sweep", SweepId = sweepId, RequestedAt = now, FinishedAt = now, Outcome = RemediationOutcome.Failed, FixSent = true });
            await db.SaveChangesAsync();
        }

        var one = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/sweeps/{sweepId}")).RootElement;
        Assert.Equal((1, 1, 0, 0), (one.GetProperty("remediated").GetInt32(), one.GetProperty("remediationsFailed").GetInt32(), one.GetProperty("skipped").GetInt32(), one.GetProperty("wouldRemediate").GetInt32()));
        var listed = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/sweeps")).RootElement.GetProperty("items").EnumerateArray().Single(s => s.GetProperty("id").GetInt64() == sweepId);
        Assert.Equal(1, listed.GetProperty("remediated").GetInt32());
        var summary = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/fleet/summary")).RootElement.GetProperty("lastSweep");
        Assert.Equal((sweepId, 1), (summary.GetProperty("id").GetInt64(), summary.GetProperty("remediated").GetInt32()));
    }
}
