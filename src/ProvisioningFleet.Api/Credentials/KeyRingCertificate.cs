using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Storage;

namespace ProvisioningFleet.Api.Credentials;

/// <summary>
/// The certificate that encrypts the Data Protection key ring. The key ring lives in PostgreSQL so that
/// every instance shares it; this certificate lives outside the database (a PFX file), so that a dump
/// of the database alone cannot decrypt a single password.
/// </summary>
public static class KeyRingCertificate
{
    public const string PathSetting = "Fleet:DataProtection:CertificatePath";
    public const string PasswordSetting = "Fleet:DataProtection:CertificatePassword";

    public static X509Certificate2 Load(IHostApplicationBuilder builder)
    {
        var path = builder.Configuration[PathSetting];
        var password = builder.Configuration[PasswordSetting];
        if (string.IsNullOrWhiteSpace(path))
        {
            if (!builder.Configuration.IsDemo())
            {
                throw new FleetConfigurationException(
                    $"No key-ring certificate configured: set {PathSetting.Replace(":", "__", StringComparison.Ordinal)} to a PFX file " +
                    $"(and {PasswordSetting.Replace(":", "__", StringComparison.Ordinal)} to its password). It encrypts the keys that encrypt " +
                    "device credentials; keep it outside the database and give every instance the same file. The README shows how to make one.");
            }

            path = Path.Combine(builder.DataFolder(), "keyring-certificate.pfx");
            if (!File.Exists(path))
            {
                CreateSelfSigned(path, password, TimeProvider.System);
            }
        }

        path = Path.GetFullPath(path, builder.Environment.ContentRootPath);
        if (!File.Exists(path))
        {
            throw new FleetConfigurationException($"The key-ring certificate {path} ({PathSetting}) does not exist.");
        }

        try
        {
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
            if (!certificate.HasPrivateKey)
            {
                throw new FleetConfigurationException($"The key-ring certificate {path} has no private key.");
            }

            return certificate;
        }
        catch (CryptographicException exception)
        {
            throw new FleetConfigurationException($"The key-ring certificate {path} cannot be read (wrong password?): {exception.Message}", exception);
        }
    }

    /// <summary>Writes a new self-signed RSA certificate with its private key as a PFX readable only by its owner.</summary>
    public static void CreateSelfSigned(string path, string? password, TimeProvider time)
    {
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest("CN=ProvisioningFleet key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, critical: true));
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(20));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
