using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Devices;

[Collection(PostgresCollection.Name)]
public sealed class DeviceCrudTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task A_new_device_gets_the_contract_defaults_and_an_empty_verdict()
    {
        using var admin = Api.CreateAdminClient();
        var response = await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "PC-0042.corp.example" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var device = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"/api/v1/devices/{device.GetProperty("id").GetInt64()}", response.Headers.Location!.OriginalString);
        Assert.Equal("PC-0042.corp.example", device.GetProperty("hostName").GetString());
        Assert.Equal("http://pc-0042.corp.example:5985/wsman", device.GetProperty("endpoint").GetString());
        Assert.Equal("Http", device.GetProperty("transport").GetString());
        Assert.Equal("Negotiate", device.GetProperty("authentication").GetString());
        Assert.Equal(JsonValueKind.Null, device.GetProperty("credential").ValueKind);
        Assert.Equal(0, device.GetProperty("tags").GetArrayLength());
        Assert.True(device.GetProperty("enabled").GetBoolean());
        Assert.False(device.GetProperty("remediationExcluded").GetBoolean());
        Assert.Equal("Unknown", device.GetProperty("state").GetString());
        foreach (var field in new[] { "inProvisioningMode", "provisioningEnabledAt", "provisioningMaxMinutes", "effectiveTimeoutMinutes", "overdueAt", "clockSkewSeconds", "taskSequenceRunning", "clientId", "lastCheckedAt", "lastError", "lastRemediation" })
        {
            Assert.Equal(JsonValueKind.Null, device.GetProperty(field).ValueKind);
        }
    }

    [Fact]
    public async Task Https_takes_port_5986_and_an_explicit_endpoint_is_kept()
    {
        using var admin = Api.CreateAdminClient();
        var https = await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "secure.example", transport = "https" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://secure.example:5986/wsman", https.GetProperty("endpoint").GetString());
        Assert.Equal("Https", https.GetProperty("transport").GetString());

        var simulated = await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "sim-1.example", endpoint = "http://127.0.0.1:15985/wsman", tags = new[] { "Site-A", "site-a", "ring-1" }, enabled = false, remediationExcluded = true }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("http://127.0.0.1:15985/wsman", simulated.GetProperty("endpoint").GetString());
        Assert.Equal(["Site-A", "ring-1"], simulated.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.False(simulated.GetProperty("enabled").GetBoolean());
        Assert.True(simulated.GetProperty("remediationExcluded").GetBoolean());
    }

    [Fact]
    public async Task Host_names_are_unique_case_insensitively()
    {
        using var admin = Api.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "dup.example" })).StatusCode);
        await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "DUP.Example" })).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("""{}""", "hostName")]
    [InlineData("""{"hostName":"bad host!"}""", "hostName")]
    [InlineData("""{"hostName":"-leading.example"}""", "hostName")]
    [InlineData("""{"hostName":"ok.example","transport":"Ftp"}""", "transport")]
    [InlineData("""{"hostName":"ok.example","transport":"1"}""", "transport")]
    [InlineData("""{"hostName":"ok.example","authentication":"Digest"}""", "authentication")]
    [InlineData("""{"hostName":"ok.example","endpoint":"ftp://x/wsman"}""", "endpoint")]
    [InlineData("""{"hostName":"ok.example","endpoint":"not a url"}""", "endpoint")]
    [InlineData("""{"hostName":"ok.example","endpoint":"https://x:5986/wsman","transport":"Http"}""", "transport")]
    [InlineData("""{"hostName":"ok.example","credential":"no-such-credential"}""", "credential")]
    [InlineData("""{"hostName":"ok.example","authentication":"Basic"}""", "credential")]
    [InlineData("""{"hostName":"ok.example","tags":["has space"]}""", "tags")]
    [InlineData("""{"hostName":"ok.example","enabled":"yes"}""", "$.enabled")]
    [InlineData("""{"hostName":"ok.example","tags":"a;b"}""", "$.tags")]
    public async Task Invalid_devices_name_the_field_and_change_nothing(string json, string field)
    {
        using var admin = Api.CreateAdminClient();
        var before = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/devices")).GetProperty("total").GetInt32();
        var response = await admin.PostAsync("/api/v1/devices", new StringContent(json, Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, field);
        Assert.Equal(before, (await admin.GetFromJsonAsync<JsonElement>("/api/v1/devices")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Ip_addresses_are_host_names_too()
    {
        using var admin = Api.CreateAdminClient();
        var v4 = await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "10.1.2.3" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("http://10.1.2.3:5985/wsman", v4.GetProperty("endpoint").GetString());
        var v6 = await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "fd00::42" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("http://[fd00::42]:5985/wsman", v6.GetProperty("endpoint").GetString());
    }

    [Fact]
    public async Task Put_replaces_settings_and_fields_left_out_take_their_defaults()
    {
        using var admin = Api.CreateAdminClient();
        var id = (await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "replace-me.example", tags = new[] { "a" }, enabled = false }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var replaced = await admin.PutAsJsonAsync($"/api/v1/devices/{id}", new { hostName = "Replaced.example", transport = "Https" });
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var device = await replaced.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Replaced.example", device.GetProperty("hostName").GetString());
        Assert.Equal("https://replaced.example:5986/wsman", device.GetProperty("endpoint").GetString());
        Assert.True(device.GetProperty("enabled").GetBoolean());
        Assert.Equal(0, device.GetProperty("tags").GetArrayLength());

        Assert.Equal("Replaced.example", (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/devices/{id}")).GetProperty("hostName").GetString());
    }

    [Fact]
    public async Task Put_to_another_devices_name_conflicts_and_unknown_ids_are_404()
    {
        using var admin = Api.CreateAdminClient();
        await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "taken.example" });
        var id = (await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "mover.example" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        await (await admin.PutAsJsonAsync($"/api/v1/devices/{id}", new { hostName = "TAKEN.example" })).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await admin.PutAsJsonAsync("/api/v1/devices/99999999", new { hostName = "x.example" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await admin.PutAsJsonAsync($"/api/v1/devices/{id}", new { hostName = "" })).AssertProblemAsync(HttpStatusCode.BadRequest, "hostName");
        await (await admin.GetAsync("/api/v1/devices/99999999")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await admin.DeleteAsync("/api/v1/devices/99999999")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_removes_the_device()
    {
        using var admin = Api.CreateAdminClient();
        var id = (await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "gone.example" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/devices/{id}")).StatusCode);
        await (await admin.GetAsync($"/api/v1/devices/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "GONE.example" })).StatusCode);
    }
}
