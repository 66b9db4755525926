using ProvisioningFleet.Api.Hosting;

namespace ProvisioningFleet.Api.Access;

/// <summary>FLEET_ADMIN_API_KEY: when set, an Admin key with this value exists once the service has started.</summary>
internal sealed class BootstrapAdminKey(IServiceScopeFactory scopes, IConfiguration configuration, ILogger<BootstrapAdminKey> logger) : IHostedService
{
    public const string Setting = FleetSchemes.BootstrapAdminKeySetting;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (configuration[Setting] is not { Length: > 0 } secret)
        {
            return;
        }

        if (secret.Length < 16)
        {
            throw new FleetConfigurationException($"{Setting} is too short to be a key: use at least 16 random characters.");
        }

        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ApiKeyStore>().EnsureBootstrapAdminAsync(secret.Trim(), cancellationToken);
        logger.LogInformation("The Admin key from {Setting} is active", Setting);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
