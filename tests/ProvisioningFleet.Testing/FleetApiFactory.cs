using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Fleet;
using ProvisioningFleet.Api.Keys;
using ProvisioningFleet.Api.Storage;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Testing;

/// <summary>
/// The real API host (Program) over real HTTP semantics, on the database it is given, with the
/// bootstrap Admin key <see cref="AdminApiKey"/> and a key-ring certificate made for the test run.
/// Add settings to <see cref="Settings"/> before the first client is created.
/// </summary>
public class FleetApiFactory(string connectionString) : WebApplicationFactory<Program>
{
    public const string AdminApiKey = "pfk_tQ7vN2xKp9LmR4tWz8HcY3bFd6JsA1eUg5iOq0nTk";
    private const string CertificatePassword = "test-keyring-password";

    private static readonly Lazy<string> Certificate = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"provisioningfleet-test-keyring-{Environment.ProcessId}.pfx");
        KeyRingCertificate.CreateSelfSigned(path, CertificatePassword, TimeProvider.System);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return path;
    });

    private readonly ConcurrentDictionary<ApiKeyRole, Lazy<Task<string>>> _keys = new();

    public string ConnectionString { get; } = connectionString;

    /// <summary>Configuration for the host (keys as in appsettings, e.g. <c>Fleet:WinRm:AllowUnencrypted</c>).</summary>
    public Dictionary<string, string?> Settings { get; } = new(StringComparer.OrdinalIgnoreCase);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting($"ConnectionStrings:{FleetDataExtensions.ConnectionStringName}", ConnectionString);
        builder.UseSetting(FleetSchemes.BootstrapAdminKeySetting, AdminApiKey);
        builder.UseSetting(KeyRingCertificate.PathSetting, Certificate.Value);
        builder.UseSetting(KeyRingCertificate.PasswordSetting, CertificatePassword);
        // The simulators the tests probe listen on loopback; a test of the refusal sets it false.
        builder.UseSetting(DeviceEndpointRules.AllowLabEndpointsSetting, "true");
        // Tests read the summary right after changing what it counts.
        builder.UseSetting(FleetSummaryEndpoints.MaxAgeSetting, "00:00:00");
        builder.UseSetting(DeviceEndpoints.ListMaxAgeSetting, "00:00:00");
        // Tests change and revoke keys in the database behind the service's back; RecentKeyChecksTests sets an age.
        builder.UseSetting(RecentKeyChecks.MaxAgeSetting, "00:00:00");
        // The in-memory server gives every test client one (unknown) address, and whole classes probe wrong keys
        // on purpose: the throttle's own tests set a small limit again.
        builder.UseSetting("Fleet:KeyCheckLimit:FailuresPerWindow", "100000");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>
    /// The address the factory's clients use: HTTPS, as a person reaches the service (outside Development its
    /// cookies are Secure, and a cookie container keeps those from plain HTTP requests).
    /// </summary>
    public static Uri SecureBaseAddress { get; } = new("https://localhost");

    /// <summary>A client that sends no credentials.</summary>
    public HttpClient CreateAnonymousClient() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = SecureBaseAddress });

    /// <summary>A client that sends <paramref name="apiKey"/> in X-Api-Key.</summary>
    public HttpClient CreateClientWithKey(string apiKey)
    {
        var client = CreateAnonymousClient();
        client.DefaultRequestHeaders.Add(FleetSchemes.ApiKeyHeader, apiKey);
        return client;
    }

    public HttpClient CreateAdminClient() => CreateClientWithKey(AdminApiKey);

    /// <summary>A client with a key of <paramref name="role"/>, issued once per factory through POST /api/v1/keys.</summary>
    public async Task<HttpClient> CreateClientAsync(ApiKeyRole role) => CreateClientWithKey(await KeyForAsync(role));

    public Task<string> KeyForAsync(ApiKeyRole role) =>
        role == ApiKeyRole.Admin
            ? Task.FromResult(AdminApiKey)
            : _keys.GetOrAdd(role, _ => new Lazy<Task<string>>(async () =>
            {
                using var admin = CreateAdminClient();
                var response = await admin.PostAsJsonAsync("/api/v1/keys", new { name = $"test-{role}", role = role.ToString() });
                response.EnsureSuccessStatusCode();
                return (await response.Content.ReadFromJsonAsync<NewKeyView>(Json.Options))!.Key;
            })).Value;

    /// <summary>Direct access to the test database, for arranging data and checking what was stored.</summary>
    public FleetDbContext CreateDbContext()
    {
        var options = new DbContextOptionsBuilder<FleetDbContext>();
        FleetDbContext.Configure(options, ConnectionString);
        return new FleetDbContext(options.Options);
    }
}
