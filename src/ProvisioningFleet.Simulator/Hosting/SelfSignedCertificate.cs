using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ProvisioningFleet.Simulator.Hosting;

/// <summary>The HTTPS listener's certificate: self-signed, made at start-up, valid for the listen address.</summary>
internal static class SelfSignedCertificate
{
    public static X509Certificate2 Create(string listenAddress, TimeProvider time)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=ProvisioningFleet Simulator", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        if (IPAddress.TryParse(listenAddress, out var address) && !IPAddress.Loopback.Equals(address))
        {
            names.AddIpAddress(address);
        }
        else if (!IPAddress.TryParse(listenAddress, out _) && listenAddress != "localhost")
        {
            names.AddDnsName(listenAddress);
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        // A round trip through PKCS#12 gives a certificate whose key TLS can use on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
