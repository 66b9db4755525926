using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Access;

/// <summary>#16 item 20: a key is checked against the database once per age, and a revoke still takes effect.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RecentKeyChecksTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    private static readonly TimeSpan Age = TimeSpan.FromSeconds(2);

    protected override void ConfigureSettings(IDictionary<string, string?> settings) =>
        settings[RecentKeyChecks.MaxAgeSetting] = Age.ToString();

    [Fact]
    public void A_check_is_kept_for_its_age_and_forgotten_on_a_revoke()
    {
        var time = new FakeTimeProvider();
        var checks = new RecentKeyChecks(time, TimeSpan.FromSeconds(10));
        var key = new ApiKey { Id = 7, Name = "ci", Role = ApiKeyRole.Operator, Prefix = "", Hash = [1], CreatedAt = time.GetUtcNow() };
        byte[] hash = [1, 2, 3];

        checks.Remember(hash, key, checks.Generation);
        checks.RememberActive(7, ApiKeyRole.Operator, checks.Generation);
        Assert.Same(key, checks.Find(hash));
        Assert.Null(checks.Find([1, 2, 4]));
        Assert.True(checks.IsActive(7, ApiKeyRole.Operator));
        Assert.False(checks.IsActive(7, ApiKeyRole.Admin));

        time.Advance(TimeSpan.FromSeconds(11));
        Assert.Null(checks.Find(hash));
        Assert.False(checks.IsActive(7, ApiKeyRole.Operator));

        checks.Remember(hash, key, checks.Generation);
        checks.Forget();
        Assert.Null(checks.Find(hash));

        // A lookup that started before the revoke and ends after it must not be kept.
        var startedBefore = checks.Generation;
        checks.Forget();
        checks.Remember(hash, key, startedBefore);
        Assert.Null(checks.Find(hash));
    }

    [Fact]
    public void Kept_checks_are_bounded_and_an_age_of_zero_keeps_nothing()
    {
        var time = new FakeTimeProvider();
        var key = new ApiKey { Id = 1, Name = "ci", Role = ApiKeyRole.Reader, Prefix = "", Hash = [1], CreatedAt = time.GetUtcNow() };
        var bounded = new RecentKeyChecks(time, TimeSpan.FromSeconds(10), maxEntries: 4);
        for (byte i = 0; i < 5; i++)
        {
            bounded.Remember([i], key, bounded.Generation);
        }

        Assert.Null(bounded.Find([0]));
        Assert.Same(key, bounded.Find([4]));

        var off = new RecentKeyChecks(time, TimeSpan.Zero);
        off.Remember([1], key, off.Generation);
        Assert.Null(off.Find([1]));
    }

    [Fact]
    public async Task A_key_revoked_here_is_refused_at_once_and_one_revoked_elsewhere_within_the_age()
    {
        using var admin = Api.CreateAdminClient();
        var here = await CreateKeyAsync(admin, "revoked-here");
        using var hereClient = Api.CreateClientWithKey(here.Secret);
        Assert.Equal(HttpStatusCode.OK, (await hereClient.GetAsync("/api/v1/devices")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/keys/{here.Id}")).StatusCode);
        await (await hereClient.GetAsync("/api/v1/devices")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        var elsewhere = await CreateKeyAsync(admin, "revoked-elsewhere");
        using var elsewhereClient = Api.CreateClientWithKey(elsewhere.Secret);
        Assert.Equal(HttpStatusCode.OK, (await elsewhereClient.GetAsync("/api/v1/devices")).StatusCode);
        await using (var db = Api.CreateDbContext())
        {
            // What another replica's DELETE /keys/{id} leaves in the shared database.
            await db.ApiKeys.Where(k => k.Id == elsewhere.Id).ExecuteUpdateAsync(set => set.SetProperty(k => k.RevokedAt, DateTimeOffset.UtcNow));
        }

        // Kept: this instance does not ask the database again within the age...
        Assert.Equal(HttpStatusCode.OK, (await elsewhereClient.GetAsync("/api/v1/devices")).StatusCode);
        await Task.Delay(Age + TimeSpan.FromMilliseconds(200));
        // ...and refuses the key once the age has passed.
        await (await elsewhereClient.GetAsync("/api/v1/devices")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    private static async Task<(long Id, string Secret)> CreateKeyAsync(HttpClient admin, string name)
    {
        var created = await (await admin.PostAsJsonAsync("/api/v1/keys", new { name, role = "Reader" })).Content.ReadFromJsonAsync<JsonElement>();
        return (created.GetProperty("id").GetInt64(), created.GetProperty("key").GetString()!);
    }
}
