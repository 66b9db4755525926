using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Credentials;

/// <summary>
/// Says which certificate a per-machine default is (here, where a logger exists: the certificate is
/// loaded while the host is being built), and refuses to start when the shared key ring holds
/// keys this instance cannot decrypt. Such an instance could not read the passwords those keys protect,
/// and Data Protection would add a key of its own certificate that the other instances cannot read.
/// Runs in <see cref="StartingAsync"/>: after the migrations (registered before it, in the same phase)
/// and before any hosted service's StartAsync, Data Protection's key-ring preload among them.
/// </summary>
internal sealed class KeyRingStartupCheck(
    KeyRingCertificate certificate, IKeyManager keyManager, IDbContextFactory<FleetDbContext> contexts, ILogger<KeyRingStartupCheck> logger)
    : IHostedLifecycleService
{
    private static readonly XNamespace XmlDsig = "http://www.w3.org/2000/09/xmldsig#";

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (certificate.IsMachineDefault)
        {
            logger.LogWarning(
                "No key-ring certificate configured: using {Origin} {Path} (SHA-256 thumbprint {Thumbprint}), which only this machine has. " +
                "Every instance must use the same certificate: copy this file to each of them and set {Setting} to it. " +
                "Keep a copy: losing it means re-entering every credential password.",
                certificate.Created ? "the certificate just created in" : "the certificate in",
                certificate.FilePath, certificate.Thumbprint, FleetConfigurationException.EnvironmentName(KeyRingCertificate.PathSetting));
        }

        // Revoked keys are skipped: Data Protection never decrypts with them, so nothing here depends on them.
        var unreadable = keyManager.GetAllKeys().Where(key => !key.IsRevoked && !CanDecrypt(key)).Select(key => key.KeyId).ToHashSet();
        if (unreadable.Count == 0)
        {
            return;
        }

        var foreignCertificates = await ThumbprintsOfAsync(unreadable, cancellationToken);
        throw new FleetConfigurationException(
            $"The key ring in the database (table data_protection_keys) holds {unreadable.Count} key(s) that this instance cannot decrypt. " +
            $"They are encrypted to the key-ring certificate with SHA-256 thumbprint {string.Join(" and ", foreignCertificates)}; " +
            $"this instance has {certificate.Thumbprint} ({certificate.FilePath}). Every instance must use the same certificate: " +
            $"give this one that certificate's PFX file by setting {FleetConfigurationException.EnvironmentName(KeyRingCertificate.PathSetting)} " +
            $"(and {FleetConfigurationException.EnvironmentName(KeyRingCertificate.PasswordSetting)}). If that certificate is lost, so are the passwords " +
            "its keys protect: delete those keys and re-enter every credential's password.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Reading the descriptor decrypts the key: it throws when no certificate of this instance fits.</summary>
    private static bool CanDecrypt(IKey key)
    {
        try
        {
            _ = key.Descriptor;
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The distinct certificates the keys were encrypted to, as the encrypted XML names them.</summary>
    private async Task<IReadOnlyCollection<string>> ThumbprintsOfAsync(IReadOnlySet<Guid> keyIds, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var keyRing = await db.DataProtectionKeys.AsNoTracking().Select(row => row.Xml).ToListAsync(cancellationToken);
        return keyRing
            .Where(xml => xml is not null)
            .Select(xml => XElement.Parse(xml!))
            .Where(key => Guid.TryParse((string?)key.Attribute("id"), out var id) && keyIds.Contains(id))
            .Select(key => key.Descendants(XmlDsig + "X509Certificate").FirstOrDefault()?.Value is { Length: > 0 } encoded
                ? ThumbprintOf(encoded)
                : "(none named: not encrypted to a certificate)")
            .Distinct()
            .ToList();
    }

    private static string ThumbprintOf(string base64Certificate)
    {
        using var encryptedTo = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(base64Certificate));
        return encryptedTo.GetCertHashString(HashAlgorithmName.SHA256);
    }
}
