using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Devices;

[Collection(PostgresCollection.Name)]
public sealed class DeviceImportTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task Csv_import_creates_then_upserts_by_host_name_case_insensitively()
    {
        using var admin = Api.CreateAdminClient();
        await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "csv-cred", userName = "u", password = "p", allowedHosts = new[] { "127.0.0.1" } });
        const string first = """
            hostName,endpoint,transport,authentication,credential,tags,enabled,remediationExcluded
            csv-a.example,,Http,Negotiate,,site-a;ring-1,true,false
            csv-b.example,https://127.0.0.1:15986/wsman,,Basic,csv-cred,,false,true
            "csv-c.example",,Https,,,"site-b",,
            """;
        var created = await ImportCsvAsync(admin, first);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var counts = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, counts.GetProperty("created").GetInt32());
        Assert.Equal(0, counts.GetProperty("updated").GetInt32());

        var b = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/devices?search=csv-b")).GetProperty("items")[0];
        Assert.Equal("Basic", b.GetProperty("authentication").GetString());
        Assert.Equal("csv-cred", b.GetProperty("credential").GetString());
        Assert.False(b.GetProperty("enabled").GetBoolean());
        Assert.True(b.GetProperty("remediationExcluded").GetBoolean());
        var c = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/devices?search=csv-c")).GetProperty("items")[0];
        Assert.Equal("https://csv-c.example:5986/wsman", c.GetProperty("endpoint").GetString());
        Assert.True(c.GetProperty("enabled").GetBoolean());

        var second = await ImportCsvAsync(admin, "hostName,tags\nCSV-A.example,ring-2\ncsv-d.example,\n");
        var secondCounts = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, secondCounts.GetProperty("created").GetInt32());
        Assert.Equal(1, secondCounts.GetProperty("updated").GetInt32());
        var a = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/devices?search=csv-a")).GetProperty("items");
        Assert.Equal(1, a.GetArrayLength());
        Assert.Equal("CSV-A.example", a[0].GetProperty("hostName").GetString());
        Assert.Equal(["ring-2"], a[0].GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());
    }

    [Fact]
    public async Task Importing_the_same_rows_again_counts_them_as_updated_and_leaves_them_untouched()
    {
        using var admin = Api.CreateAdminClient();
        const string csv = "hostName,tags\nsame-1.example,ring-1\nsame-2.example,ring-2\n";
        await ImportCsvAsync(admin, csv);
        await using var db = Api.CreateDbContext();
        var before = await db.Devices.AsNoTracking().Where(d => d.HostNameKey.StartsWith("same-")).OrderBy(d => d.HostNameKey).Select(d => new { d.UpdatedAt, d.Version }).ToListAsync();

        var again = await (await ImportCsvAsync(admin, csv)).Content.ReadFromJsonAsync<JsonElement>();
        var changed = await (await ImportCsvAsync(admin, "hostName,tags\nsame-1.example,ring-1\nsame-2.example,ring-3\n")).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal((0, 2), (again.GetProperty("created").GetInt32(), again.GetProperty("updated").GetInt32()));
        Assert.Equal((0, 2), (changed.GetProperty("created").GetInt32(), changed.GetProperty("updated").GetInt32()));
        var after = await db.Devices.AsNoTracking().Where(d => d.HostNameKey.StartsWith("same-")).OrderBy(d => d.HostNameKey).Select(d => new { d.UpdatedAt, d.Version }).ToListAsync();
        Assert.Equal(before[0], after[0]);
        Assert.NotEqual(before[1], after[1]);
    }

    [Fact]
    public async Task Bad_rows_are_each_named_and_nothing_is_imported()
    {
        using var admin = Api.CreateAdminClient();
        await ImportCsvAsync(admin, "hostName\nkept.example\n");
        var before = await CountAsync();
        const string csv = """
            hostName,transport,enabled,credential
            good-1.example,Http,true,
            bad host,Http,true,
            good-2.example,Carrier-Pigeon,true,
            good-3.example,Https,perhaps,
            good-4.example,,,missing-cred
            kept.example,Https,false,
            """;
        var response = await ImportCsvAsync(admin, csv);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest,
            "rows[2].hostName", "rows[3].transport", "rows[4].enabled", "rows[5].credential");
        Assert.Equal(4, problem.GetProperty("errors").EnumerateObject().Count());
        Assert.Equal(before, await CountAsync());
        Assert.Equal(0, (await admin.GetFromJsonAsync<JsonElement>("/api/v1/devices?search=good-1")).GetProperty("total").GetInt32());
        Assert.Equal("Http", (await admin.GetFromJsonAsync<JsonElement>("/api/v1/devices?search=kept")).GetProperty("items")[0].GetProperty("transport").GetString());
    }

    [Fact]
    public async Task The_same_host_twice_in_one_file_is_400()
    {
        using var admin = Api.CreateAdminClient();
        var before = await CountAsync();
        var response = await ImportCsvAsync(admin, "hostName\ntwice.example\nother.example\nTWICE.example\n");
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "rows[3].hostName");
        Assert.Contains("row 1", problem.GetProperty("errors").GetProperty("rows[3].hostName")[0].GetString());
        Assert.Equal(before, await CountAsync());
    }

    [Theory]
    [InlineData("hostname,colour\na.example,blue\n", "header")]
    [InlineData("endpoint\nhttp://a/wsman\n", "header")]
    [InlineData("hostName,hostName\na.example,b.example\n", "header")]
    [InlineData("", "header")]
    [InlineData("hostName,tags\n\"unterminated.example,x\n", "rows[1]")]
    [InlineData("hostName\na.example,extra\n", "rows[1]")]
    public async Task Malformed_csv_is_400_naming_where(string csv, string field)
    {
        using var admin = Api.CreateAdminClient();
        var before = await CountAsync();
        await (await ImportCsvAsync(admin, csv)).AssertProblemAsync(HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await CountAsync());
    }

    [Fact]
    public async Task Json_arrays_import_and_their_bad_rows_are_named()
    {
        using var admin = Api.CreateAdminClient();
        var ok = await admin.PostAsJsonAsync("/api/v1/devices/import", new object[]
        {
            new { hostName = "json-1.example", tags = new[] { "j" } },
            new { hostName = "json-2.example", transport = "Https" },
        });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(2, (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("created").GetInt32());

        var before = await CountAsync();
        var bad = await admin.PostAsync("/api/v1/devices/import", new StringContent(
            """[{"hostName":"json-3.example"},{"hostName":"json 4"},{"hostName":"json-5.example","authentication":"Magic"}]""",
            Encoding.UTF8, "application/json"));
        await bad.AssertProblemAsync(HttpStatusCode.BadRequest, "rows[2].hostName", "rows[3].authentication");

        var misspelt = await admin.PostAsync("/api/v1/devices/import", new StringContent(
            """[{"hostName":"json-6.example","tagz":["x"]}]""", Encoding.UTF8, "application/json"));
        await misspelt.AssertProblemAsync(HttpStatusCode.BadRequest);

        var notArray = await admin.PostAsync("/api/v1/devices/import", new StringContent("""{"hostName":"x.example"}""", Encoding.UTF8, "application/json"));
        await notArray.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(before, await CountAsync());
    }

    [Fact]
    public async Task Other_media_types_are_415_and_only_admins_import()
    {
        using var admin = Api.CreateAdminClient();
        await (await admin.PostAsync("/api/v1/devices/import", new StringContent("hostName\na.example", Encoding.UTF8, "text/plain")))
            .AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        await (await ImportCsvAsync(operatorClient, "hostName\na.example\n")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_import_is_audited()
    {
        using var admin = Api.CreateAdminClient();
        await ImportCsvAsync(admin, "hostName\naudited-import.example\n");
        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?action=device.import");
        var entry = audit.GetProperty("items")[0];
        Assert.Equal("FLEET_ADMIN_API_KEY (key 1)", entry.GetProperty("actor").GetString());
        Assert.True(entry.GetProperty("details").GetProperty("created").GetInt32() >= 1);
    }

    private static Task<HttpResponseMessage> ImportCsvAsync(HttpClient client, string csv) =>
        client.PostAsync("/api/v1/devices/import", new StringContent(csv, Encoding.UTF8, "text/csv"));

    private async Task<int> CountAsync()
    {
        await using var db = Api.CreateDbContext();
        return await db.Devices.CountAsync();
    }
}
