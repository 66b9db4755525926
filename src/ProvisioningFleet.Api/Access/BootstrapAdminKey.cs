using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Api.Access;

/// <summary>
/// FLEET_ADMIN_API_KEY: when set, an Admin key with this value exists once the service has started;
/// a placeholder or weak value stops start-up. When it is not set and no Admin key exists, one is
/// generated into <see cref="KeyFileSetting"/> (owner-only; a configured file is always used), so a new installation is never locked out
/// and never runs on a key printed in a deployment file.
/// </summary>
internal sealed class BootstrapAdminKey(IServiceScopeFactory scopes, IConfiguration configuration, IHostEnvironment environment, ILogger<BootstrapAdminKey> logger) : IHostedService
{
    public const string Setting = FleetSchemes.BootstrapAdminKeySetting;
    public const string KeyFileSetting = "Fleet:AdminKeyFile";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<ApiKeyStore>();
        if (configuration[Setting]?.Trim() is { Length: > 0 } secret)
        {
            await store.EnsureBootstrapAdminAsync(secret, cancellationToken);
            logger.LogInformation("The Admin key from {Setting} is active", Setting);
            return;
        }

        // A configured file is the bootstrap key (a deployment may prepare it); the default file only saves a lock-out.
        var configuredFile = configuration[KeyFileSetting] is { Length: > 0 };
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        if (!configuredFile && await db.ApiKeys.AnyAsync(key => key.Role == ApiKeyRole.Admin && key.RevokedAt == null, cancellationToken))
        {
            return;
        }

        var path = KeyFilePath();
        await store.EnsureBootstrapAdminAsync(AdminKeyFile.ReadOrCreate(path), cancellationToken);
        logger.LogWarning(
            "No Admin key existed and {Setting} is not set: a generated Admin key is in {KeyFile} (readable only by this account). " +
            "Sign in with it, issue named keys, then delete the file",
            Setting, path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Before the host is built, so a refused key stops start-up with the reason alone and nothing stored.</summary>
    public static void RefuseWeakKey(IConfiguration configuration)
    {
        if (configuration[Setting]?.Trim() is { Length: > 0 } secret && AdminKeyStrength.Weakness(secret) is { } weakness)
        {
            throw new FleetConfigurationException(
                $"{Setting} is refused: {weakness}. Set it to a random value (e.g. `openssl rand -base64 33`), " +
                $"or leave it unset and the service generates one into {FleetConfigurationException.EnvironmentName(KeyFileSetting)}.");
        }
    }

    private string KeyFilePath() =>
        configuration[KeyFileSetting] is { Length: > 0 } configured
            ? Path.GetFullPath(configured, environment.ContentRootPath)
            : Path.Combine(KeyRingCertificate.MachineFolder(configuration, environment), "admin-key.txt");
}
