using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Audit;

[Collection(PostgresCollection.Name)]
public sealed class AuditTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task Every_change_is_kept_with_actor_and_time_newest_first()
    {
        using var admin = Api.CreateAdminClient();
        var key = await (await admin.PostAsJsonAsync("/api/v1/keys", new { name = "auditor", role = "Admin" })).Content.ReadFromJsonAsync<JsonElement>();
        using var auditor = Api.CreateClientWithKey(key.GetProperty("key").GetString()!);
        await auditor.PostAsJsonAsync("/api/v1/credentials", new { name = "audited", userName = "u", password = "never-in-the-audit" });
        var device = await (await auditor.PostAsJsonAsync("/api/v1/devices", new { hostName = "audited.example", credential = "audited" })).Content.ReadFromJsonAsync<JsonElement>();
        await auditor.PutAsJsonAsync($"/api/v1/devices/{device.GetProperty("id").GetInt64()}", new { hostName = "audited.example", enabled = false });
        await auditor.DeleteAsync($"/api/v1/devices/{device.GetProperty("id").GetInt64()}");

        var page = await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?actor=auditor");
        var actions = page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()!).ToArray();
        // The PUT left the credential out: where the device's credential goes changed, so it has an entry of its own.
        Assert.Equal(["device.delete", "device.endpointChange", "device.replace", "device.create", "credential.create"], actions);
        var first = page.GetProperty("items")[0];
        Assert.Equal($"auditor (key {key.GetProperty("id").GetInt64()})", first.GetProperty("actor").GetString());
        Assert.Equal("device:audited.example", first.GetProperty("target").GetString());
        Assert.True(first.GetProperty("at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.DoesNotContain("never-in-the-audit", page.ToString());

        var keyEntries = await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?action=key.create");
        Assert.Contains(keyEntries.GetProperty("items").EnumerateArray(), e => e.GetProperty("target").GetString() == "key:auditor");
    }

    [Fact]
    public async Task Only_admins_read_the_audit_log_and_bad_filters_are_400()
    {
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        await (await operatorClient.GetAsync("/api/v1/audit")).AssertProblemAsync(HttpStatusCode.Forbidden);
        using var admin = Api.CreateAdminClient();
        await (await admin.GetAsync("/api/v1/audit?since=yesterday")).AssertProblemAsync(HttpStatusCode.BadRequest, "since");
        await (await admin.GetAsync("/api/v1/audit?pageSize=1000")).AssertProblemAsync(HttpStatusCode.BadRequest, "pageSize");
    }
}
