using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Credentials;

[Collection(PostgresCollection.Name)]
public sealed class CredentialTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task The_password_is_never_returned_and_not_stored_in_plain_text()
    {
        const string password = "S3cret-Passw0rd-for-the-test!";
        using var admin = Api.CreateAdminClient();
        var created = await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "lab-admin", userName = "fleet", password, domain = "CORP" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var createdBody = await created.Content.ReadAsStringAsync();
        Assert.DoesNotContain(password, createdBody);
        Assert.DoesNotContain("password", createdBody, StringComparison.OrdinalIgnoreCase);
        var id = JsonDocument.Parse(createdBody).RootElement.GetProperty("id").GetInt64();

        Assert.DoesNotContain(password, await admin.GetStringAsync("/api/v1/credentials"));
        Assert.DoesNotContain(password, await admin.GetStringAsync($"/api/v1/credentials/{id}"));
        Assert.DoesNotContain(password, await admin.GetStringAsync("/api/v1/audit"));

        await using var db = Api.CreateDbContext();
        var row = await db.Credentials.AsNoTracking().SingleAsync(c => c.Id == id);
        Assert.DoesNotContain(password, row.ProtectedPassword);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(password)), row.ProtectedPassword);
        var vault = Api.Services.GetRequiredService<CredentialVault>();
        Assert.Equal(password, vault.Reveal(row).Password);

        // The key that encrypted it is in the database only in encrypted form (by the key-ring certificate).
        var keyRing = await db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToListAsync();
        Assert.NotEmpty(keyRing);
        Assert.All(keyRing, xml =>
        {
            Assert.Contains("EncryptedData", xml!);
            Assert.DoesNotContain("<masterKey", xml!);
        });
    }

    [Fact]
    public async Task Put_rotates_the_password()
    {
        using var admin = Api.CreateAdminClient();
        var id = (await (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "rotating", userName = "svc", password = "first-password" }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        string before;
        await using (var db = Api.CreateDbContext())
        {
            before = (await db.Credentials.SingleAsync(c => c.Id == id)).ProtectedPassword;
        }

        var replaced = await admin.PutAsJsonAsync($"/api/v1/credentials/{id}", new { name = "rotating", userName = "svc2", password = "second-password", domain = "LAB" });
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var view = await replaced.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("svc2", view.GetProperty("userName").GetString());
        Assert.Equal("LAB", view.GetProperty("domain").GetString());

        await using (var db = Api.CreateDbContext())
        {
            var row = await db.Credentials.SingleAsync(c => c.Id == id);
            Assert.NotEqual(before, row.ProtectedPassword);
            Assert.Equal("second-password", Api.Services.GetRequiredService<CredentialVault>().Reveal(row).Password);
        }
    }

    [Theory]
    [InlineData("""{"userName":"u","password":"p"}""", "name")]
    [InlineData("""{"name":"has space","userName":"u","password":"p"}""", "name")]
    [InlineData("""{"name":"n1","password":"p"}""", "userName")]
    [InlineData("""{"name":"n2","userName":"u"}""", "password")]
    [InlineData("""{"name":"n3","userName":"u","password":""}""", "password")]
    public async Task Invalid_credentials_name_the_field(string json, string field)
    {
        using var admin = Api.CreateAdminClient();
        var response = await admin.PostAsync("/api/v1/credentials", new StringContent(json, Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Duplicate_names_conflict_and_unknown_ids_are_404()
    {
        using var admin = Api.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "twice", userName = "u", password = "p" })).StatusCode);
        await (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "twice", userName = "u", password = "p" })).AssertProblemAsync(HttpStatusCode.Conflict);

        await (await admin.GetAsync("/api/v1/credentials/999999")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await admin.PutAsJsonAsync("/api/v1/credentials/999999", new { name = "x", userName = "u", password = "p" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await admin.DeleteAsync("/api/v1/credentials/999999")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_credential_in_use_cannot_be_deleted()
    {
        using var admin = Api.CreateAdminClient();
        var id = (await (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "in-use", userName = "u", password = "p" }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var device = await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "uses-credential.example", credential = "in-use" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("in-use", device.GetProperty("credential").GetString());

        await (await admin.DeleteAsync($"/api/v1/credentials/{id}")).AssertProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/devices/{device.GetProperty("id").GetInt64()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/credentials/{id}")).StatusCode);
        await (await admin.GetAsync($"/api/v1/credentials/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Readers_list_but_may_not_change()
    {
        using var reader = await Api.CreateClientAsync(ApiKeyRole.Reader);
        var list = await reader.GetFromJsonAsync<JsonElement>("/api/v1/credentials");
        Assert.Equal(JsonValueKind.Array, list.GetProperty("items").ValueKind);
        await (await reader.PostAsJsonAsync("/api/v1/credentials", new { name = "r", userName = "u", password = "p" })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.DeleteAsync("/api/v1/credentials/1")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_vault_gives_the_engine_a_target_with_the_decrypted_credential()
    {
        using var admin = Api.CreateAdminClient();
        await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "engine-cred", userName = "probe", password = "probe-password", domain = "LAB" });
        var deviceId = (await (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "target.lab.example", credential = "engine-cred", transport = "Https", authentication = "Ntlm" }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        await using var db = Api.CreateDbContext();
        var device = await db.Devices.Include(d => d.Credential).SingleAsync(d => d.Id == deviceId);
        var target = Api.Services.GetRequiredService<CredentialVault>().TargetFor(device, device.Credential);
        Assert.Equal(new Uri("https://target.lab.example:5986/wsman"), target.Endpoint);
        Assert.Equal("probe-password", target.Credential!.Password);
        Assert.Equal(@"LAB\probe", target.Credential.ToString());
    }
}
