using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Data.Devices;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Credentials;

/// <summary>
/// #16 item 4: a stored credential goes only to the hosts and with the schemes it names (by default each device's own host
/// name), checked when a device is saved or imported and again before every call; endpoint and authentication changes are audited.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CredentialScopeTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Theory]
    [InlineData("pc-0042.corp.example", "PC-0042.corp.example.", true)]
    [InlineData("pc-0042.corp.example", "pc-0043.corp.example", false)]
    [InlineData("*.corp.example", "pc-1.site-a.corp.example", true)]
    [InlineData("*.corp.example", "corp.example", false)]
    [InlineData("*.corp.example", "evilcorp.example", false)]
    [InlineData("*.corp.example", "pc-1.corp.example.evil.example", false)]
    [InlineData("10.20.0.0/16", "10.20.255.1", true)]
    [InlineData("10.20.0.0/16", "10.21.0.1", false)]
    [InlineData("10.20.0.0/16", "::ffff:10.20.0.9", true)]
    [InlineData("10.20.0.0/16", "pc.corp.example", false)]
    [InlineData("fd00::/8", "[fd12::1]", true)]
    [InlineData("127.0.0.1", "127.0.0.1", true)]
    [InlineData("*", "anything.example", true)]
    public void Host_patterns_match_names_suffixes_and_networks(string pattern, string host, bool matches)
    {
        Assert.Null(CredentialScope.PatternError(pattern));
        Assert.Equal(matches, CredentialScope.Matches(pattern, host));
    }

    [Theory]
    [InlineData("evil*.example")]
    [InlineData("*")]
    [InlineData("10.0.0.0/33")]
    [InlineData("http://pc.corp.example")]
    [InlineData("")]
    public void Only_real_patterns_are_accepted(string pattern) =>
        Assert.Equal(pattern == "*", CredentialScope.PatternError(pattern) is null);

    [Fact]
    public async Task A_credential_without_hosts_goes_only_to_each_devices_own_host_name()
    {
        using var admin = Api.CreateAdminClient();
        await CreateCredentialAsync(admin, new { name = "own-host", userName = "svc", password = "own-host-password" });

        var elsewhere = await admin.PostAsJsonAsync("/api/v1/devices",
            new { hostName = "pc-1.corp.example", endpoint = "http://collector.evil.example:5985/wsman", credential = "own-host" });
        var problem = await elsewhere.AssertProblemAsync(HttpStatusCode.BadRequest, "credential");
        Assert.Contains("collector.evil.example", Errors(problem, "credential"), StringComparison.Ordinal);

        var own = await admin.PostAsJsonAsync("/api/v1/devices",
            new { hostName = "pc-1.corp.example", endpoint = "http://PC-1.corp.example:5985/wsman", credential = "own-host" });
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/devices",
            new { hostName = "pc-2.corp.example", credential = "own-host" })).StatusCode);

        await using var db = Api.CreateDbContext();
        Assert.False(await db.Devices.AnyAsync(d => d.Endpoint.Contains("evil")));
    }

    [Fact]
    public async Task Host_patterns_and_schemes_bound_where_and_how_the_credential_is_used()
    {
        using var admin = Api.CreateAdminClient();
        var view = await CreateCredentialAsync(admin, new
        {
            name = "corp-kerberos",
            userName = "svc",
            password = "corp-kerberos-password",
            allowedHosts = new[] { "*.corp.example", "10.20.0.0/16" },
            allowedAuthentications = new[] { "kerberos" },
        });
        Assert.Equal(["*.corp.example", "10.20.0.0/16"], view.GetProperty("allowedHosts").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(["Kerberos"], view.GetProperty("allowedAuthentications").EnumerateArray().Select(h => h.GetString()));

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/devices",
            new { hostName = "pc-3.corp.example", authentication = "Kerberos", credential = "corp-kerberos" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/devices",
            new { hostName = "10.20.3.4", authentication = "Kerberos", credential = "corp-kerberos", spn = "HTTP/pc-4.corp.example" })).StatusCode);

        var negotiate = await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "pc-5.corp.example", authentication = "Negotiate", credential = "corp-kerberos" });
        Assert.Contains("Negotiate", Errors(await negotiate.AssertProblemAsync(HttpStatusCode.BadRequest, "credential"), "credential"), StringComparison.Ordinal);

        var outside = await admin.PostAsJsonAsync("/api/v1/devices",
            new { hostName = "pc-6.corp.example", endpoint = "http://wsman.evil.example/wsman", authentication = "Kerberos", credential = "corp-kerberos" });
        Assert.Contains("wsman.evil.example", Errors(await outside.AssertProblemAsync(HttpStatusCode.BadRequest, "credential"), "credential"), StringComparison.Ordinal);

        // A ticket asked for another host's service would be relayed there: the SPN's host is bound too.
        var spn = await admin.PostAsJsonAsync("/api/v1/devices",
            new { hostName = "10.20.3.5", authentication = "Kerberos", credential = "corp-kerberos", spn = "HTTP/files.evil.example" });
        await spn.AssertProblemAsync(HttpStatusCode.BadRequest, "credential");
    }

    [Fact]
    public async Task Basic_goes_over_https_only_outside_a_lab()
    {
        using var admin = Api.CreateAdminClient();
        await CreateCredentialAsync(admin, new { name = "basic-user", userName = "svc", password = "basic-user-password" });

        var plain = await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "pc-7.corp.example", authentication = "Basic", credential = "basic-user" });
        Assert.Contains("HTTPS", Errors(await plain.AssertProblemAsync(HttpStatusCode.BadRequest, "credential"), "credential"), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/devices",
            new { hostName = "pc-7.corp.example", transport = "Https", authentication = "Basic", credential = "basic-user" })).StatusCode);
    }

    [Fact]
    public async Task Bad_patterns_and_schemes_are_refused_and_change_nothing()
    {
        using var admin = Api.CreateAdminClient();
        var response = await admin.PostAsync("/api/v1/credentials", new StringContent(
            """{"name":"bad-scope","userName":"u","password":"bad-scope-pass","allowedHosts":["evil*.example"],"allowedAuthentications":["Digest"]}""",
            Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "allowedHosts", "allowedAuthentications");

        await using var db = Api.CreateDbContext();
        Assert.False(await db.Credentials.AnyAsync(c => c.Name == "bad-scope"));
    }

    [Fact]
    public async Task An_import_with_one_row_outside_the_credentials_scope_imports_nothing()
    {
        using var admin = Api.CreateAdminClient();
        await CreateCredentialAsync(admin, new { name = "import-scope", userName = "svc", password = "import-scope-pass", allowedHosts = new[] { "*.corp.example" } });
        var csv = """
            hostName,endpoint,credential
            imp-1.corp.example,,import-scope
            imp-2.corp.example,http://203.0.113.9:5985/wsman,import-scope
            """;
        var response = await admin.PostAsync("/api/v1/devices/import", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Contains("203.0.113.9", Errors(await response.AssertProblemAsync(HttpStatusCode.BadRequest, "rows[2].credential"), "rows[2].credential"), StringComparison.Ordinal);

        await using var db = Api.CreateDbContext();
        Assert.False(await db.Devices.AnyAsync(d => d.HostNameKey.StartsWith("imp-")));
    }

    [Fact]
    public async Task Endpoint_and_authentication_changes_are_audited_with_before_and_after()
    {
        using var admin = Api.CreateAdminClient();
        await CreateCredentialAsync(admin, new { name = "audited-scope", userName = "svc", password = "audited-scope-pass", allowedHosts = new[] { "*.corp.example" } });
        var created = await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "aud-1.corp.example", credential = "audited-scope" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        // A PUT that keeps the endpoint writes no change entry; one that moves it does.
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/devices/{id}",
            new { hostName = "aud-1.corp.example", credential = "audited-scope", tags = new[] { "x" } })).StatusCode);
        Assert.Empty(await ChangesAsync("device:aud-1.corp.example"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/devices/{id}",
            new { hostName = "aud-1.corp.example", endpoint = "https://relay.corp.example:5986/wsman", authentication = "Kerberos", credential = "audited-scope" })).StatusCode);
        var change = Assert.Single(await ChangesAsync("device:aud-1.corp.example"));
        await using (var db = Api.CreateDbContext())
        {
            var creator = await db.AuditEntries.AsNoTracking().Where(e => e.Action == "device.create" && e.Target == "device:aud-1.corp.example").SingleAsync();
            Assert.Equal(creator.Actor, change.Actor);
        }

        var details = JsonDocument.Parse(change.Details!).RootElement;
        Assert.Equal("http://aud-1.corp.example:5985/wsman", details.GetProperty("before").GetProperty("endpoint").GetString());
        Assert.Equal("Negotiate", details.GetProperty("before").GetProperty("authentication").GetString());
        Assert.Equal("https://relay.corp.example:5986/wsman", details.GetProperty("after").GetProperty("endpoint").GetString());
        Assert.Equal("Kerberos", details.GetProperty("after").GetProperty("authentication").GetString());
        Assert.Equal("audited-scope", details.GetProperty("after").GetProperty("credential").GetString());

        // The same through an import: one entry per device whose reach changes, none for an unchanged row.
        var csv = """
            hostName,endpoint,authentication,credential
            aud-1.corp.example,http://aud-1.corp.example:5985/wsman,Negotiate,audited-scope
            aud-2.corp.example,,Negotiate,audited-scope
            """;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/v1/devices/import", new StringContent(csv, Encoding.UTF8, "text/csv"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/v1/devices/import", new StringContent(csv, Encoding.UTF8, "text/csv"))).StatusCode);
        var changes = await ChangesAsync("device:aud-1.corp.example");
        Assert.Equal(2, changes.Count);
        var imported = JsonDocument.Parse(changes[^1].Details!).RootElement;
        Assert.Equal("https://relay.corp.example:5986/wsman", imported.GetProperty("before").GetProperty("endpoint").GetString());
        Assert.Equal("http://aud-1.corp.example:5985/wsman", imported.GetProperty("after").GetProperty("endpoint").GetString());
        Assert.Equal("Negotiate", imported.GetProperty("after").GetProperty("authentication").GetString());
        Assert.Empty(await ChangesAsync("device:aud-2.corp.example"));
    }

    [Fact]
    public async Task A_credential_narrowed_after_the_device_was_saved_is_refused_before_any_connection()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var connections = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await listener.AcceptTcpClientAsync();
                Interlocked.Increment(ref connections);
            }
        });

        using var admin = Api.CreateAdminClient();
        var credential = await CreateCredentialAsync(admin, new
        {
            name = "narrowed",
            userName = "svc",
            password = "narrowed-password",
            allowedHosts = new[] { "127.0.0.1" },
        });
        var device = await admin.PostAsJsonAsync("/api/v1/devices",
            new { hostName = "narrowed.corp.example", endpoint = $"http://127.0.0.1:{port}/wsman", credential = "narrowed" });
        Assert.Equal(HttpStatusCode.Created, device.StatusCode);
        var id = (await device.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        // In scope, the probe reaches the endpoint (which answers nothing useful).
        (await admin.PostAsync($"/api/v1/devices/{id}/probe", null)).EnsureSuccessStatusCode();
        await Eventually.MatchAsync(() => Task.FromResult(Volatile.Read(ref connections)), count => count > 0, "the first probe to connect", TimeSpan.FromSeconds(10));
        var before = Volatile.Read(ref connections);

        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/credentials/{credential.GetProperty("id").GetInt64()}",
            new { name = "narrowed", userName = "svc", password = "narrowed-password", allowedHosts = new[] { "*.corp.example" } })).StatusCode);
        var probed = await (await admin.PostAsync($"/api/v1/devices/{id}/probe", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Error", probed.GetProperty("state").GetString());
        var error = probed.GetProperty("lastError");
        Assert.Equal("Configuration", error.GetProperty("category").GetString());
        Assert.Contains("may not be sent to 127.0.0.1", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        await Task.Delay(200);
        Assert.Equal(before, Volatile.Read(ref connections));

        await using var db = Api.CreateDbContext();
        var scopeChange = await db.AuditEntries.AsNoTracking().Where(e => e.Action == "credential.replace" && e.Target == "credential:narrowed").SingleAsync();
        var details = JsonDocument.Parse(scopeChange.Details!).RootElement;
        Assert.True(details.GetProperty("scopeChanged").GetBoolean());
        Assert.Equal("127.0.0.1", details.GetProperty("before").GetProperty("allowedHosts")[0].GetString());
        Assert.Equal("*.corp.example", details.GetProperty("after").GetProperty("allowedHosts")[0].GetString());
    }

    private async Task<List<Data.Audit.AuditEntry>> ChangesAsync(string target)
    {
        await using var db = Api.CreateDbContext();
        return await db.AuditEntries.AsNoTracking().Where(e => e.Action == DeviceReach.ChangeAction && e.Target == target).OrderBy(e => e.Id).ToListAsync();
    }

    private static async Task<JsonElement> CreateCredentialAsync(HttpClient admin, object credential)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/credentials", credential);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string Errors(JsonElement problem, string field) =>
        string.Join(" ", problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()));
}
