using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Hosting;

namespace ProvisioningFleet.Api.Access;

/// <summary>
/// HMAC-SHA256 of API keys with a key that never enters the database: <see cref="SecretSetting"/> when
/// configured, else one derived from the key-ring certificate's private key (which every instance already
/// shares). A database dump alone then allows no offline guessing. <see cref="KeyId"/> names the HMAC key
/// on each row without revealing it.
/// </summary>
public sealed class ApiKeyHasher
{
    public const string SecretSetting = "Fleet:ApiKeys:HashSecret";

    private static readonly byte[] DerivationLabel = Encoding.UTF8.GetBytes("ProvisioningFleet API key hashing v1");

    private readonly byte[] _key;

    public ApiKeyHasher(KeyRingCertificate certificate, IConfiguration configuration)
    {
        if (configuration[SecretSetting] is { Length: > 0 } secret)
        {
            if (AdminKeyStrength.Weakness(secret) is { } weakness)
            {
                throw new FleetConfigurationException($"{FleetConfigurationException.EnvironmentName(SecretSetting)} is refused: {weakness}.");
            }

            _key = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        }
        else if (certificate.Certificate.GetRSAPrivateKey() is { } rsa)
        {
            // PKCS#1 v1.5 signatures are deterministic: the same certificate gives every instance the same key.
            using (rsa)
            {
                _key = SHA256.HashData(rsa.SignData(DerivationLabel, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            }
        }
        else
        {
            throw new FleetConfigurationException(
                $"The key-ring certificate has no RSA key to derive the API-key hashing key from: set {FleetConfigurationException.EnvironmentName(SecretSetting)} to 32+ random characters.");
        }

        KeyId = Convert.ToHexStringLower(HMACSHA256.HashData(_key, "key id"u8))[..8];
    }

    /// <summary>Which HMAC key hashed a row; rows with another id cannot be checked with this one.</summary>
    public string KeyId { get; }

    public byte[] Hash(string apiKey) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(apiKey));

    /// <summary>The plain SHA-256 that rows stored before keyed hashing hold (rehashed on their first use).</summary>
    public static byte[] LegacyHash(string apiKey) => SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));
}
