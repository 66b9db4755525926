using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Tests;

public sealed class InspectionApiTests(SimulatorFixture fixture) : IClassFixture<SimulatorFixture>
{
    private Uri Api(string relative) => new(fixture.Host.InspectionBaseAddress, relative);

    [Fact]
    public async Task A_device_can_be_created_read_patched_and_removed()
    {
        using var put = await fixture.Http.PutAsJsonAsync(Api("devices/inspect-1.corp.example"), new
        {
            provisioningMode = "true",
            provisioningEnabledTime = 1_760_000_000,
            provisioningMaxMinutes = 60,
            runningProcesses = new[] { "TSManager.exe" },
            behavior = "Normal",
            tags = new[] { "site-a" },
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var device = fixture.Host.Fleet.Find("INSPECT-1.corp.example")!;
        Assert.True(device.InProvisioningMode);
        Assert.True(device.TaskSequenceRunning);
        Assert.Equal(60u, device.ProvisioningMaxMinutes);

        using var patch = await fixture.Http.PatchAsJsonAsync(Api("devices/inspect-1.corp.example"), new { provisioningMode = (string?)null, latencyMs = 15, behavior = "Stall" });
        var view = await patch.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Null(device.ProvisioningMode);
        Assert.Equal(DeviceBehavior.Stall, device.Behavior);
        Assert.Equal("Stall", (string?)view!["behavior"]);
        Assert.Equal(1_760_000_000, (long?)view["provisioningEnabledTime"]);

        using var removed = await fixture.Http.DeleteAsync(Api("devices/inspect-1.corp.example"));
        using var gone = await fixture.Http.GetAsync(Api("devices/inspect-1.corp.example"));
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task An_invalid_patch_names_the_fields_and_changes_nothing()
    {
        var device = fixture.Host.Fleet.Add(new SimulatedDevice("inspect-2.corp.example") { ProvisioningMode = "false" });

        using var patch = await fixture.Http.PatchAsJsonAsync(Api("devices/inspect-2.corp.example"), new
        {
            provisioningMode = "true",
            faultRate = 3,
            behavior = "Explode",
            provisioningMaxMinutes = -1,
            colour = "blue",
        });
        var problem = await patch.Content.ReadFromJsonAsync<JsonObject>();

        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        Assert.Equal(["behavior", "colour", "faultRate", "provisioningMaxMinutes"], problem!["errors"]!.AsObject().Select(e => e.Key).Order());
        Assert.Equal("false", device.ProvisioningMode);
    }

    [Fact]
    public async Task Invocations_are_listed_per_host_with_their_parameters()
    {
        fixture.Host.Fleet.Add(new SimulatedDevice("inspect-3.corp.example"));
        await fixture.Client("inspect-3.corp.example").InvokeAsync("root/ccm", "SMS_Client", "TriggerSchedule",
            "<p:sScheduleID>{00000000-0000-0000-0000-000000000022}</p:sScheduleID>");

        var records = await fixture.Http.GetFromJsonAsync<JsonArray>(Api("invocations?host=inspect-3.corp.example&method=TriggerSchedule"));

        var record = Assert.Single(records!)!;
        Assert.Equal("SMS_Client", (string?)record["className"]);
        Assert.Equal("{00000000-0000-0000-0000-000000000022}", (string?)record["parameters"]!["sScheduleID"]);

        using var cleared = await fixture.Http.DeleteAsync(Api("invocations?host=inspect-3.corp.example"));
        Assert.Empty(fixture.Host.Fleet.Invocations("inspect-3.corp.example"));
    }

    [Fact]
    public async Task The_device_list_exports_in_the_service_import_format()
    {
        fixture.Host.Fleet.Add(new SimulatedDevice("export-1.corp.example") { Tags = ["site-b", "ring-2"] });

        var csv = await fixture.Http.GetStringAsync(Api("export/devices.csv?authentication=Ntlm&credential=lab"));
        var json = await fixture.Http.GetFromJsonAsync<JsonArray>(Api("export/devices.json"));

        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("hostName,endpoint,transport,authentication,credential,tags,enabled,remediationExcluded", lines[0]);
        Assert.Contains($"export-1.corp.example,{fixture.Host.EndpointFor("export-1.corp.example")},Http,Ntlm,lab,site-b;ring-2,true,false", lines);
        var row = json!.Single(r => (string?)r!["hostName"] == "export-1.corp.example")!;
        Assert.Equal(["site-b", "ring-2"], row["tags"]!.AsArray().Select(t => (string?)t));
        Assert.Equal("Basic", (string?)row["authentication"]);
    }

    [Fact]
    public async Task Devices_are_listed_in_pages()
    {
        for (var i = 0; i < 5; i++)
        {
            fixture.Host.Fleet.Add(new SimulatedDevice($"page-{i}.corp.example"));
        }

        var page = await fixture.Http.GetFromJsonAsync<JsonObject>(Api("devices?skip=0&take=2"));

        Assert.True((int)page!["total"]! >= 5);
        Assert.Equal(2, page["items"]!.AsArray().Count);
    }
}
