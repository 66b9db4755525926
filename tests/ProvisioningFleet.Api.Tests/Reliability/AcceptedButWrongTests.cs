using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Reliability;

/// <summary>
/// Issue 16, item 18: requests the service used to accept although they were wrong, sent as raw bytes (duplicate
/// keys cannot be written any other way) to the built service running as its own process, with the lab setting off.
/// Each is refused with a problem naming the field, in words that name no .NET type, and changes nothing.
/// </summary>
public sealed class AcceptedButWrongTests
{
    [Fact]
    public async Task Wrong_policies_devices_credentials_and_endpoints_are_refused_and_change_nothing()
    {
        await using var service = await FleetServiceProcess.StartAsync(new Dictionary<string, string> { ["Fleet__WinRm__AllowLabEndpoints"] = "false" });
        using var admin = service.CreateAdminClient();
        var policyBefore = await admin.GetStringAsync("/api/v1/policy");

        // A cron that parses but never fires would silently stop every scheduled sweep.
        await AssertRefusedAsync(await admin.PutAsync("/api/v1/policy", Json("""{"sweepCron":"0 0 31 2 *"}""")), "sweepCron");
        await AssertRefusedAsync(await admin.PutAsync("/api/v1/policy", Json("""{"sweepCron":"   "}""")), "sweepCron");
        await AssertRefusedAsync(await admin.PutAsync("/api/v1/policy", Json("""{"graceMinutes":60,"gracMinutes":5}""")), "$.gracMinutes");
        await AssertRefusedAsync(await admin.PutAsync("/api/v1/policy", Json("""{"graceMinutes":null}""")), "$.graceMinutes");
        await AssertRefusedAsync(await admin.PutAsync("/api/v1/policy", Json("""{"autoRemediate":null}""")), "$.autoRemediate");
        await AssertRefusedAsync(await admin.PutAsync("/api/v1/policy", Json("""{"graceMinutes":1,"graceMinutes":2}""")));
        await AssertRefusedAsync(await admin.PutAsync("/api/v1/policy", Json("""{"autoRemediate":"yes"}""")), "$.autoRemediate");
        Assert.Equal(WithoutStamp(policyBefore), WithoutStamp(await admin.GetStringAsync("/api/v1/policy")));

        // null keeps its meaning where it has one; a date that comes only in leap years is a schedule.
        var allowed = await admin.PutAsync("/api/v1/policy", Json("""{"remediateAfterMinutes":null,"sweepCron":"0 0 29 2 *"}"""));
        Assert.True(allowed.StatusCode == HttpStatusCode.OK, await allowed.Content.ReadAsStringAsync());

        // Devices: unknown fields, duplicate keys, the wrong shape, no body.
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices", Json("""{"hostName":"pc-1.corp.example","colour":"red"}""")), "$.colour");
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices", Json("""{"hostName":"pc-1.corp.example","hostName":"pc-2.corp.example"}""")));
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices", Json("""[{"hostName":"pc-1.corp.example"}]""")));
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices", Json("""{"hostName":"pc-1.corp.example","enabled":"yes"}""")), "$.enabled");
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices", Json("")));
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices/import", Json("""[{"hostName":"pc-1.corp.example","hostName":"pc-3.corp.example"}]""")));

        // Endpoints where the stored credential must never go: this host, link-local, the database's port.
        var databasePort = new NpgsqlConnectionStringBuilder(service.ConnectionString).Port;
        foreach (var endpoint in new[]
        {
            "http://127.0.0.1:5985/wsman", "http://127.9.9.9:5985/wsman", "http://localhost:5985/wsman", "https://[::1]:5986/wsman",
            "http://[::ffff:127.0.0.1]:5985/wsman", "http://169.254.169.254/wsman", "http://[fe80::1]:5985/wsman",
            $"http://db.corp.example:{databasePort}/wsman",
        })
        {
            await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices", Json($$"""{"hostName":"pc-1.corp.example","endpoint":"{{endpoint}}"}""")), "endpoint");
        }

        await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices", Json("""{"hostName":"localhost"}""")), "hostName");
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices", Json("""{"hostName":"169.254.1.1"}""")), "hostName");
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/devices/import", new StringContent(
            "hostName,endpoint\npc-1.corp.example,http://10.0.0.5:5985/wsman\npc-2.corp.example,http://127.0.0.1:5985/wsman\n", Encoding.UTF8, "text/csv")), "rows[2].endpoint");
        Assert.Contains("\"total\":0", await admin.GetStringAsync("/api/v1/devices"), StringComparison.Ordinal);
        var created = await admin.PostAsync("/api/v1/devices", Json("""{"hostName":"pc-1.corp.example","endpoint":"http://10.0.0.5:5985/wsman"}"""));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());

        // Credentials: a password of spaces, a name that differs from another only in case, unknown fields.
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/credentials", Json("""{"name":"lab","userName":"u","password":"   "}""")), "password");
        await AssertRefusedAsync(await admin.PostAsync("/api/v1/credentials", Json("""{"name":"lab","userName":"u","password":"p4ss-word","pasword":"x"}""")), "$.pasword");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/api/v1/credentials", Json("""{"name":"lab","userName":"u","password":"p4ss-word"}"""))).StatusCode);
        var sameButCase = await admin.PostAsync("/api/v1/credentials", Json("""{"name":"LAB","userName":"u","password":"p4ss-word"}"""));
        await sameButCase.AssertProblemAsync(HttpStatusCode.Conflict);
        var listed = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/credentials")).RootElement;
        Assert.Equal(1, listed.GetProperty("total").GetInt32());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    // The policy view without its change stamp.
    private static string WithoutStamp(string policy)
    {
        var view = JsonDocument.Parse(policy).RootElement;
        return string.Join(",", view.EnumerateObject().Where(p => p.Name is not ("updatedAt" or "updatedBy")).Select(p => $"{p.Name}={p.Value}"));
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, params string[] fields)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, fields);
        var text = problem.ToString();
        foreach (var leak in new[] { "ProvisioningFleet.", "System.", "Implicit body", "parameter \"", ".NET" })
        {
            Assert.DoesNotContain(leak, text, StringComparison.Ordinal);
        }
    }
}
