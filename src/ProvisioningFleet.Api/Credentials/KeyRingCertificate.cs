using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ProvisioningFleet.Api.Hosting;

namespace ProvisioningFleet.Api.Credentials;

/// <summary>
/// The certificate that encrypts the Data Protection key ring. The key ring lives in PostgreSQL so that
/// every instance shares it; this certificate lives outside the database (a PFX file), so that a dump
/// of the database alone cannot decrypt a single password.
/// </summary>
public sealed class KeyRingCertificate
{
    public const string PathSetting = "Fleet:DataProtection:CertificatePath";
    public const string PasswordSetting = "Fleet:DataProtection:CertificatePassword";

    /// <summary>
    /// Where the per-machine default certificate lives when <see cref="PathSetting"/> is not set; the
    /// user's local application data folder unless set. Lets tests keep it out of the real home folder.
    /// </summary>
    public const string DefaultFolderSetting = "Fleet:DataProtection:DefaultCertificateFolder";

    /// <summary>
    /// Set by demo mode: without <see cref="PathSetting"/>, the certificate is made in this folder and
    /// belongs to this one instance rather than to the machine.
    /// </summary>
    public const string InstanceFolderSetting = "Fleet:DataProtection:InstanceCertificateFolder";

    private const string FileName = "keyring-certificate.pfx";

    private KeyRingCertificate(X509Certificate2 certificate, string filePath, bool isMachineDefault, bool created)
    {
        Certificate = certificate;
        FilePath = filePath;
        IsMachineDefault = isMachineDefault;
        Created = created;
    }

    public X509Certificate2 Certificate { get; }

    public string FilePath { get; }

    /// <summary>
    /// Neither configured nor demo mode: a file of this machine and user, which other instances do not
    /// have unless an operator copies it to them.
    /// </summary>
    public bool IsMachineDefault { get; }

    /// <summary>The file did not exist and was made at this start.</summary>
    public bool Created { get; }

    /// <summary>SHA-256 of the certificate, in hex: what operators compare between instances.</summary>
    public string Thumbprint => Certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>
    /// The configured certificate; without one, the demo folder's (demo mode) or this machine's default,
    /// made when missing. A configured file that is missing or unreadable stops start-up.
    /// </summary>
    public static KeyRingCertificate Load(IHostApplicationBuilder builder)
    {
        var path = builder.Configuration[PathSetting];
        var password = builder.Configuration[PasswordSetting];
        var isMachineDefault = false;
        var created = false;
        if (string.IsNullOrWhiteSpace(path))
        {
            var instanceFolder = builder.Configuration[InstanceFolderSetting];
            isMachineDefault = string.IsNullOrEmpty(instanceFolder);
            path = Path.Combine(string.IsNullOrEmpty(instanceFolder) ? MachineFolder(builder.Configuration, builder.Environment) : instanceFolder, FileName);
            if (!File.Exists(path))
            {
                CreateSelfSigned(path, password, TimeProvider.System);
                created = true;
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

            return new KeyRingCertificate(certificate, path, isMachineDefault, created);
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
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created with this mode rather than narrowed afterwards: the private key is never readable by others, not even briefly.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, options);
        file.Write(certificate.Export(X509ContentType.Pfx, password));
    }

    /// <summary>This machine's folder for the service's own secrets (the default certificate, a generated Admin key).</summary>
    public static string MachineFolder(IConfiguration configuration, IHostEnvironment environment)
    {
        if (configuration[DefaultFolderSetting] is { Length: > 0 } configured)
        {
            return Path.GetFullPath(configured, environment.ContentRootPath);
        }

        // Empty where the platform has no such folder (e.g. a container user without a home directory).
        var localData = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        return string.IsNullOrEmpty(localData) ? environment.ContentRootPath : Path.Combine(localData, "ProvisioningFleet");
    }
}
