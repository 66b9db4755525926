using System.Net;
using System.Text;
using System.Text.Json;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Paging;

/// <summary>#15: a list counts its set up to a bound and says "at least" past it, so a million rows are not counted per request.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ListTotalTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    private const int Devices = PageRequest.ExactTotalUpTo + 60;

    [Fact]
    public async Task Totals_are_exact_up_to_the_bound_and_a_lower_bound_past_it()
    {
        using var admin = Api.CreateAdminClient();
        var csv = new StringBuilder("hostName,tags\n");
        for (var i = 1; i <= Devices; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"bulk-{i:D5}.corp.example,{(i % 1000 == 0 ? "thousands" : "rest")}\n");
        }

        var import = await admin.PostAsync("/api/v1/devices/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, import.StatusCode);

        var first = await PageAsync(admin, "/api/v1/devices?search=bulk-&pageSize=50");
        Assert.Equal((PageRequest.ExactTotalUpTo, false, 50), first);

        // Past the bound the total is at least this page's end, and the pages are still there.
        Assert.Equal((Devices - 10, false, 50), await PageAsync(admin, "/api/v1/devices?search=bulk-&pageSize=50&page=201"));
        Assert.Equal((Devices, false, 10), await PageAsync(admin, "/api/v1/devices?search=bulk-&pageSize=50&page=202"));
        Assert.Equal((PageRequest.ExactTotalUpTo, false, 0), await PageAsync(admin, "/api/v1/devices?search=bulk-&pageSize=50&page=203"));

        // A narrower filter is counted exactly, and its end is known.
        Assert.Equal((10, true, 10), await PageAsync(admin, "/api/v1/devices?tag=thousands"));
        Assert.Equal((10, true, 0), await PageAsync(admin, "/api/v1/devices?tag=thousands&page=2"));
        Assert.Equal((PageRequest.ExactTotalUpTo, false, 50), await PageAsync(admin, "/api/v1/devices?tag=rest"));
    }

    private static async Task<(int Total, bool Exact, int Items)> PageAsync(HttpClient client, string url)
    {
        var page = JsonDocument.Parse(await client.GetStringAsync(url)).RootElement;
        return (page.GetProperty("total").GetInt32(), page.GetProperty("totalExact").GetBoolean(), page.GetProperty("items").GetArrayLength());
    }
}
