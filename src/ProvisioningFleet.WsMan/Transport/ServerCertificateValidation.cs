using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// The server certificate check of <see cref="WsManTlsOptions"/>, for WinRM and for any other HTTPS
/// service the fleet reads with the same trust (the ConfigMgr AdminService).
/// </summary>
public static class ServerCertificateValidation
{
    public static RemoteCertificateValidationCallback For(WsManTlsOptions tls, Uri endpoint, ILogger logger)
    {
        if (tls.SkipCertificateValidation)
        {
            logger.LogWarning("Certificate validation is switched off for {Endpoint}: any server certificate is accepted", endpoint);
            return static (_, _, _, _) => true;
        }

        if (tls.PinnedSha256Thumbprint is { } pinned)
        {
            var expected = Convert.FromHexString(new string(pinned.Where(Uri.IsHexDigit).ToArray()));
            if (expected.Length != SHA256.HashSizeInBytes)
            {
                throw new CimException(CimErrorCategory.Configuration, "The pinned certificate thumbprint is not a SHA-256 hash (64 hex digits).");
            }

            return (_, certificate, _, _) =>
                certificate is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(certificate.GetRawCertData()), expected);
        }

        if (tls.TrustedCertificateAuthorities is { Count: > 0 } roots)
        {
            return (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
            };
        }

        return static (_, _, _, errors) => errors == SslPolicyErrors.None;
    }
}
