namespace ProvisioningFleet.Api.Credentials;

/// <summary>
/// Says which certificate a per-machine default is, once a logger exists: the certificate is loaded
/// while the host is being built.
/// </summary>
internal sealed class KeyRingStartupCheck(KeyRingCertificate certificate, ILogger<KeyRingStartupCheck> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (certificate.IsMachineDefault)
        {
            logger.LogWarning(
                "No key-ring certificate configured: using {Origin} {Path} (SHA-256 thumbprint {Thumbprint}), which only this machine has. " +
                "Every instance must use the same certificate: copy this file to each of them and set {Setting} to it. " +
                "Keep a copy: losing it means re-entering every credential password.",
                certificate.Created ? "the certificate just created in" : "the certificate in",
                certificate.FilePath, certificate.Thumbprint, KeyRingCertificate.PathSetting.Replace(":", "__", StringComparison.Ordinal));
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
