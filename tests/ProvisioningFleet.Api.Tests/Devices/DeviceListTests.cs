using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Devices;

[Collection(PostgresCollection.Name)]
public sealed class DeviceListTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    private static readonly SemaphoreSlim Seeded = new(1, 1);
    private static bool _seeded;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Seeded.WaitAsync();
        try
        {
            if (!_seeded)
            {
                await SeedAsync();
                _seeded = true;
            }
        }
        finally
        {
            Seeded.Release();
        }
    }

    // 12 devices: list-00..list-11; states cycle Healthy, Overdue, Provisioning; tags by parity; every fourth disabled.
    private async Task SeedAsync()
    {
        using var admin = Api.CreateAdminClient();
        var rows = Enumerable.Range(0, 12).Select(i => new
        {
            hostName = $"list-{i:00}.site.example",
            tags = i % 2 == 0 ? new[] { "Even", "all" } : new[] { "odd", "all" },
            enabled = i % 4 != 0,
        });
        (await admin.PostAsJsonAsync("/api/v1/devices/import", rows)).EnsureSuccessStatusCode();
        await using var db = Api.CreateDbContext();
        DeviceState[] cycle = [DeviceState.Healthy, DeviceState.Overdue, DeviceState.Provisioning];
        for (var i = 0; i < 12; i++)
        {
            var key = $"list-{i:00}.site.example";
            var state = cycle[i % 3];
            await db.Devices.Where(d => d.HostNameKey == key).ExecuteUpdateAsync(set => set.SetProperty(d => d.State, state));
        }
    }

    [Theory]
    [InlineData("", 12)]
    [InlineData("state=Overdue", 4)]
    [InlineData("state=Overdue&state=Provisioning", 8)]
    [InlineData("state=overdue", 4)]
    [InlineData("tag=EVEN", 6)]
    [InlineData("tag=even&tag=odd", 12)]
    [InlineData("tag=none", 0)]
    [InlineData("search=LIST-1", 2)]
    [InlineData("search=site", 12)]
    [InlineData("search=%25", 0)]
    [InlineData("search=list_0", 0)]
    [InlineData("search=-0", 10)]
    [InlineData("enabled=false", 3)]
    [InlineData("enabled=true&state=Healthy", 3)]
    [InlineData("tag=even&state=Healthy", 2)]
    public async Task Filters_match_and_repeated_values_are_or(string query, int expected)
    {
        using var reader = await Api.CreateClientAsync(ApiKeyRole.Reader);
        var page = await reader.GetFromJsonAsync<JsonElement>($"/api/v1/devices?{query}");
        Assert.Equal(expected, page.GetProperty("total").GetInt32());
        Assert.Equal(expected, page.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Pages_are_ordered_by_host_name_and_say_where_they_are()
    {
        using var reader = await Api.CreateClientAsync(ApiKeyRole.Reader);
        var page = await reader.GetFromJsonAsync<JsonElement>("/api/v1/devices?pageSize=5&page=2");
        Assert.Equal(12, page.GetProperty("total").GetInt32());
        Assert.Equal(2, page.GetProperty("page").GetInt32());
        Assert.Equal(5, page.GetProperty("pageSize").GetInt32());
        Assert.Equal(
            ["list-05.site.example", "list-06.site.example", "list-07.site.example", "list-08.site.example", "list-09.site.example"],
            page.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("hostName").GetString()!).ToArray());

        var filtered = await reader.GetFromJsonAsync<JsonElement>("/api/v1/devices?tag=even&state=Healthy&state=Overdue&pageSize=2&page=2");
        Assert.Equal(4, filtered.GetProperty("total").GetInt32());
        Assert.Equal(
            ["list-06.site.example", "list-10.site.example"],
            filtered.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("hostName").GetString()!).ToArray());

        var beyond = await reader.GetFromJsonAsync<JsonElement>("/api/v1/devices?pageSize=5&page=9");
        Assert.Equal(0, beyond.GetProperty("items").GetArrayLength());
        Assert.Equal(12, beyond.GetProperty("total").GetInt32());

        var defaults = await reader.GetFromJsonAsync<JsonElement>("/api/v1/devices");
        Assert.Equal(1, defaults.GetProperty("page").GetInt32());
        Assert.Equal(50, defaults.GetProperty("pageSize").GetInt32());
    }

    [Theory]
    [InlineData("pageSize=501", "pageSize")]
    [InlineData("pageSize=0", "pageSize")]
    [InlineData("page=0", "page")]
    [InlineData("page=abc", "page")]
    [InlineData("state=Sleeping", "state")]
    [InlineData("state=3", "state")]
    [InlineData("enabled=maybe", "enabled")]
    public async Task Bad_filters_are_400_naming_the_parameter(string query, string field)
    {
        using var reader = await Api.CreateClientAsync(ApiKeyRole.Reader);
        await (await reader.GetAsync($"/api/v1/devices?{query}")).AssertProblemAsync(HttpStatusCode.BadRequest, field);
    }
}
