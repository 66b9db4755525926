using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Data;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Credentials;

/// <summary>The key-ring certificate when none is configured, and instances that do not share one.</summary>
[Collection(PostgresCollection.Name)]
public sealed class KeyRingTests(PostgresFixture postgres) : IDisposable
{
    private const string CertificatePassword = "key-ring-test-password";

    private readonly string _folder = Directory.CreateTempSubdirectory("provisioningfleet-keyring-test-").FullName;

    private string DefaultCertificate => Path.Combine(_folder, "default", "keyring-certificate.pfx");

    [Fact]
    public async Task Without_a_configured_certificate_it_makes_one_of_its_own_and_keeps_using_it()
    {
        var database = await postgres.CreateDatabaseAsync();
        long id;
        await using (var first = HostWithDefaultCertificate(database))
        {
            using var admin = first.CreateAdminClient();
            var created = await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "default-cert", userName = "svc", password = "kept-across-restarts" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        }

        Assert.True(File.Exists(DefaultCertificate));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(DefaultCertificate));
        }

        await using var restarted = HostWithDefaultCertificate(database);
        await using var db = restarted.CreateDbContext();
        var row = await db.Credentials.AsNoTracking().SingleAsync(c => c.Id == id);
        Assert.Equal("kept-across-restarts", restarted.Services.GetRequiredService<CredentialVault>().Reveal(row).Password);
    }

    [Fact]
    public async Task An_instance_with_another_certificate_refuses_to_start_and_names_the_one_it_needs()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using (var first = HostWithDefaultCertificate(database))
        {
            using var admin = first.CreateAdminClient();
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "first", userName = "svc", password = "p" })).StatusCode);
        }

        var keysBefore = await KeyRingAsync(database);
        Assert.NotEmpty(keysBefore);

        var other = Path.Combine(_folder, "other.pfx");
        KeyRingCertificate.CreateSelfSigned(other, CertificatePassword, TimeProvider.System);
        await using var second = Host(database);
        second.Settings[KeyRingCertificate.PathSetting] = other;

        var refusal = StartupFailure(Assert.ThrowsAny<Exception>(() => second.Services));
        Assert.Contains($"SHA-256 thumbprint {ThumbprintOf(DefaultCertificate)}", refusal.Message);
        Assert.Contains(ThumbprintOf(other), refusal.Message);
        Assert.Contains("Fleet__DataProtection__CertificatePath", refusal.Message);
        // The refused instance must not have added a key of its own, which the first could not read.
        Assert.Equal(keysBefore, await KeyRingAsync(database));
    }

    [Fact]
    public async Task A_configured_certificate_that_does_not_exist_stops_start_up()
    {
        await using var api = Host(await postgres.CreateDatabaseAsync());
        var missing = Path.Combine(_folder, "missing.pfx");
        api.Settings[KeyRingCertificate.PathSetting] = missing;

        var refusal = StartupFailure(Assert.ThrowsAny<Exception>(() => api.Services));
        Assert.Contains(missing, refusal.Message);
        Assert.Contains("does not exist", refusal.Message);
        Assert.False(File.Exists(missing));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private FleetApiFactory Host(string database)
    {
        var api = new FleetApiFactory(database);
        api.Settings[KeyRingCertificate.PasswordSetting] = CertificatePassword;
        return api;
    }

    private FleetApiFactory HostWithDefaultCertificate(string database)
    {
        var api = Host(database);
        api.Settings[KeyRingCertificate.PathSetting] = "";
        api.Settings[KeyRingCertificate.DefaultFolderSetting] = Path.GetDirectoryName(DefaultCertificate);
        return api;
    }

    private static FleetConfigurationException StartupFailure(Exception exception)
    {
        for (Exception? cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is FleetConfigurationException refusal)
            {
                return refusal;
            }
        }

        throw new Xunit.Sdk.XunitException($"Start-up failed, but not with a FleetConfigurationException: {exception}");
    }

    private static string ThumbprintOf(string pfx)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfx, CertificatePassword);
        return certificate.GetCertHashString(HashAlgorithmName.SHA256);
    }

    private static async Task<List<string?>> KeyRingAsync(string database)
    {
        var options = new DbContextOptionsBuilder<FleetDbContext>();
        FleetDbContext.Configure(options, database);
        await using var db = new FleetDbContext(options.Options);
        return await db.DataProtectionKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToListAsync();
    }
}
