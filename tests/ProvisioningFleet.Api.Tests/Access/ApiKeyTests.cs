using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Access;

[Collection(PostgresCollection.Name)]
public sealed class ApiKeyTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task No_key_is_401_with_a_problem_and_a_challenge()
    {
        using var client = Api.CreateAnonymousClient();
        var response = await client.GetAsync("/api/v1/devices");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Unknown_key_is_401()
    {
        using var client = Api.CreateClientWithKey("pfk_not-a-real-key-at-all-000000000000");
        await (await client.GetAsync("/api/v1/devices")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData(ApiKeyRole.Reader, "GET", "/api/v1/devices", HttpStatusCode.OK)]
    [InlineData(ApiKeyRole.Reader, "GET", "/api/v1/credentials", HttpStatusCode.OK)]
    [InlineData(ApiKeyRole.Reader, "POST", "/api/v1/devices", HttpStatusCode.Forbidden)]
    [InlineData(ApiKeyRole.Operator, "POST", "/api/v1/devices", HttpStatusCode.Forbidden)]
    [InlineData(ApiKeyRole.Operator, "POST", "/api/v1/credentials", HttpStatusCode.Forbidden)]
    [InlineData(ApiKeyRole.Operator, "GET", "/api/v1/keys", HttpStatusCode.Forbidden)]
    [InlineData(ApiKeyRole.Reader, "GET", "/api/v1/audit", HttpStatusCode.Forbidden)]
    [InlineData(ApiKeyRole.Operator, "POST", "/api/v1/keys", HttpStatusCode.Forbidden)]
    [InlineData(ApiKeyRole.Admin, "GET", "/api/v1/keys", HttpStatusCode.OK)]
    [InlineData(ApiKeyRole.Admin, "GET", "/api/v1/audit", HttpStatusCode.OK)]
    public async Task Roles_decide_what_a_key_may_do(ApiKeyRole role, string method, string path, HttpStatusCode expected)
    {
        using var client = await Api.CreateClientAsync(role);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = JsonContent.Create(new { name = $"x-{Guid.NewGuid():N}", hostName = $"h{Guid.NewGuid():N}.example", userName = "u", password = "p", role = "Reader" });
        }

        var response = await client.SendAsync(request);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal(expected, response.StatusCode);
        }
        else
        {
            await response.AssertProblemAsync(expected);
        }
    }

    [Fact]
    public async Task A_new_key_is_shown_once_stored_as_a_hash_and_works_for_its_role()
    {
        using var admin = Api.CreateAdminClient();
        var created = await admin.PostAsJsonAsync("/api/v1/keys", new { name = "ci-reader", role = "Reader" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var key = body.GetProperty("key").GetString()!;
        Assert.Equal("Reader", body.GetProperty("role").GetString());
        var id = body.GetProperty("id").GetInt64();

        await using (var db = Api.CreateDbContext())
        {
            var row = await db.ApiKeys.SingleAsync(k => k.Id == id);
            // Keyed: the plain SHA-256 a dump could be checked against offline is not what is stored.
            Assert.NotEqual(SHA256.HashData(Encoding.UTF8.GetBytes(key)), row.Hash);
            Assert.Equal(32, row.Hash.Length);
            Assert.Equal(8, row.HashKeyId!.Length);
            // The stored prefix is the key's public id: the secret part after it is 32 random bytes.
            Assert.Equal(key[..12], row.Prefix);
            Assert.True(Convert.FromBase64String(key[12..].Replace('-', '+').Replace('_', '/') + "=").Length == 32);
            Assert.DoesNotContain(key[12..], JsonSerializer.Serialize(row));
        }

        var list = await admin.GetStringAsync("/api/v1/keys");
        Assert.Contains("ci-reader", list);
        Assert.DoesNotContain(key, list);
        Assert.DoesNotContain("hash", list, StringComparison.OrdinalIgnoreCase);

        using var reader = Api.CreateClientWithKey(key);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/devices")).StatusCode);
        await (await reader.DeleteAsync($"/api/v1/keys/{id}")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_bootstrap_key_stores_none_of_its_characters_in_clear()
    {
        using (var admin = Api.CreateAdminClient())
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/keys")).StatusCode);
        }

        await using var db = Api.CreateDbContext();
        var row = await db.ApiKeys.SingleAsync(k => k.Name == "FLEET_ADMIN_API_KEY" && k.RevokedAt == null);
        Assert.Equal("", row.Prefix);
        Assert.NotNull(row.HashKeyId);
    }

    [Fact]
    public async Task A_key_stored_before_keyed_hashing_still_works_and_is_rehashed_on_first_use()
    {
        var legacyKey = "pfk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        long id;
        await using (var db = Api.CreateDbContext())
        {
            var row = new ApiKey
            {
                Name = "legacy-operator",
                Role = ApiKeyRole.Operator,
                Prefix = legacyKey[..12],
                Hash = SHA256.HashData(Encoding.UTF8.GetBytes(legacyKey)),
                CreatedAt = DateTimeOffset.UtcNow,
            };
            db.ApiKeys.Add(row);
            await db.SaveChangesAsync();
            id = row.Id;
        }

        using var client = Api.CreateClientWithKey(legacyKey);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/devices")).StatusCode);

        await using (var db = Api.CreateDbContext())
        {
            var row = await db.ApiKeys.SingleAsync(k => k.Id == id);
            Assert.NotNull(row.HashKeyId);
            Assert.NotEqual(SHA256.HashData(Encoding.UTF8.GetBytes(legacyKey)), row.Hash);
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/devices")).StatusCode);
        using var wrong = Api.CreateClientWithKey(legacyKey[..^1] + (legacyKey[^1] == '0' ? '1' : '0'));
        await (await wrong.GetAsync("/api/v1/devices")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_at_once()
    {
        using var admin = Api.CreateAdminClient();
        var created = await (await admin.PostAsJsonAsync("/api/v1/keys", new { name = "to-revoke", role = "Operator" })).Content.ReadFromJsonAsync<JsonElement>();
        using var client = Api.CreateClientWithKey(created.GetProperty("key").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/devices")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/keys/{created.GetProperty("id").GetInt64()}")).StatusCode);

        await (await client.GetAsync("/api/v1/devices")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.DoesNotContain("to-revoke", await admin.GetStringAsync("/api/v1/keys"));
        await (await admin.DeleteAsync($"/api/v1/keys/{created.GetProperty("id").GetInt64()}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"name":"x","role":"Root"}""", "role")]
    [InlineData("""{"name":"x"}""", "role")]
    [InlineData("""{"role":"Admin"}""", "name")]
    [InlineData("""{"name":"x","role":"1"}""", "role")]
    public async Task Invalid_key_requests_name_the_field(string json, string field)
    {
        using var admin = Api.CreateAdminClient();
        var response = await admin.PostAsync("/api/v1/keys", new StringContent(json, Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Malformed_json_is_400_never_500()
    {
        using var admin = Api.CreateAdminClient();
        var response = await admin.PostAsync("/api/v1/keys", new StringContent("{\"name\": ", Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        var wrongType = await admin.PostAsync("/api/v1/keys", new StringContent("""{"name": ["a"], "role": "Admin"}""", Encoding.UTF8, "application/json"));
        await wrongType.AssertProblemAsync(HttpStatusCode.BadRequest, "$.name");
        var noBody = await admin.PostAsync("/api/v1/keys", new StringContent("", Encoding.UTF8, "application/json"));
        await noBody.AssertProblemAsync(HttpStatusCode.BadRequest);
        var wrongMedia = await admin.PostAsync("/api/v1/keys", new StringContent("name=x", Encoding.UTF8, "text/plain"));
        await wrongMedia.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Session_endpoint_tells_who_calls()
    {
        using var reader = await Api.CreateClientAsync(ApiKeyRole.Reader);
        var me = await reader.GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal("Reader", me.GetProperty("role").GetString());
        Assert.Equal("ApiKey", me.GetProperty("authentication").GetString());
        Assert.Equal(JsonValueKind.Null, me.GetProperty("antiforgeryToken").ValueKind);
    }
}
