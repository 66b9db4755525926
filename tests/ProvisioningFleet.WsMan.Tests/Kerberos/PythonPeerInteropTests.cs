using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Authentication.ExtendedProtection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ProvisioningFleet.Testing.Kerberos;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Tests.Kerberos;

/// <summary>
/// Our client against an acceptor it shares nothing with: the python3-gssapi peer unseals our
/// messages with gss_unwrap_iov after checking the layout Windows expects, and seals its replies with
/// gss_wrap_iov. A mistake our client and our simulator shared would fail here.
/// </summary>
public sealed class PythonPeerInteropTests
{
    private const string StdRegProv = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/StdRegProv";

    [PythonPeerTheory]
    [InlineData(WsManAuthentication.Kerberos, "kerberos")]
    [InlineData(WsManAuthentication.Negotiate, "negotiate")]
    public async Task Sealed_Invoke_and_Enumerate_round_trips_in_the_Windows_layout(WsManAuthentication authentication, string scheme)
    {
        await using var peer = await PythonKerberosPeer.StartAsync();
        await using var client = new WsManClient(Options(peer, authentication));

        var invoke = await client.InvokeAsync(StdRegProv, "GetStringValue", [CimParameter.Of("sValueName", "ProvisioningMode")], null, CancellationToken.None);
        var processes = await client.QueryAsync(WsManClient.WmiResourceUri("root/cimv2", "*"), "SELECT * FROM Win32_Process", CancellationToken.None, "Win32_Process");

        Assert.Equal("true", invoke["sValue"].AsString());
        Assert.Contains(processes, p => p["Name"].AsString() == "TSManager.exe");
        var facts = await peer.FactsAsync();
        Assert.Equal(3, facts.Length);
        Assert.All(facts, fact =>
        {
            Assert.Equal(scheme, fact.GetProperty("scheme").GetString());
            Assert.Equal(60, fact.GetProperty("headerLength").GetInt32());
            Assert.Equal(28, fact.GetProperty("rrc").GetInt32());
            Assert.Equal(fact.GetProperty("originalLength").GetInt32(), fact.GetProperty("dataLength").GetInt32());
        });
    }

    [PythonPeerFact]
    public async Task A_sealed_fault_is_the_devices_answer()
    {
        await using var peer = await PythonKerberosPeer.StartAsync();
        await using var client = new WsManClient(Options(peer, WsManAuthentication.Kerberos));

        var error = await Assert.ThrowsAsync<CimException>(() =>
            client.InvokeAsync(WsManClient.WmiResourceUri("root/nothere", "SMS_Client"), "GetStringValue", [], null, CancellationToken.None));

        Assert.Equal(CimErrorCategory.NotFound, error.Category);
    }

    [PythonPeerFact]
    public async Task A_fault_in_clear_on_a_sealed_session_is_not_trusted()
    {
        await using var peer = await PythonKerberosPeer.StartAsync("--clear-faults");
        await using var client = new WsManClient(Options(peer, WsManAuthentication.Kerberos));

        var error = await Assert.ThrowsAsync<CimException>(() =>
            client.InvokeAsync(StdRegProv, "GetStringValue", [CimParameter.Of("sValueName", "ProvisioningMode")], null, CancellationToken.None));

        // Read as the device's answer it would have been NotFound ("no ConfigMgr client").
        Assert.Equal(CimErrorCategory.Protocol, error.Category);
        Assert.Contains("in clear", error.Message);
    }

    [PythonPeerFact]
    public async Task The_client_authenticates_again_when_the_server_drops_the_context()
    {
        await using var peer = await PythonKerberosPeer.StartAsync("--drop-after", "1");
        await using var client = new WsManClient(Options(peer, WsManAuthentication.Kerberos));

        for (var i = 0; i < 3; i++)
        {
            var result = await client.InvokeAsync(StdRegProv, "GetStringValue", [CimParameter.Of("sValueName", "ProvisioningMode")], null, CancellationToken.None);
            Assert.Equal("true", result["sValue"].AsString());
        }

        // One message refused with 401 after unsealing, then sent again on a fresh context.
        Assert.Equal(4, (await peer.FactsAsync()).Length);
    }

    [PythonPeerFact]
    public async Task Over_HTTPS_a_peer_that_enforces_the_channel_binding_accepts_ours_and_refuses_another()
    {
        using var certificate = SelfSigned();
        var folder = Directory.CreateTempSubdirectory("pf-peer-tls-");
        try
        {
            var (certPem, keyPem) = (Path.Combine(folder.FullName, "cert.pem"), Path.Combine(folder.FullName, "key.pem"));
            await File.WriteAllTextAsync(certPem, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyPem, certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
            await using var peer = await PythonKerberosPeer.StartAsync("--tls", certPem, keyPem);
            var endpoint = new UriBuilder(peer.Endpoint) { Scheme = "https" }.Uri;
            await using var client = new WsManClient(Options(peer, WsManAuthentication.Kerberos) with
            {
                Endpoint = endpoint,
                Tls = new WsManTlsOptions { PinnedSha256Thumbprint = Convert.ToHexString(SHA256.HashData(certificate.RawData)) },
            });

            var result = await client.InvokeAsync(StdRegProv, "GetStringValue", [CimParameter.Of("sValueName", "ProvisioningMode")], null, CancellationToken.None);

            Assert.Equal("true", result["sValue"].AsString());
            Assert.Equal(HttpStatusCode.Unauthorized, await HandshakeWithBindingAsync(endpoint, SHA256.HashData("another certificate"u8)));
            Assert.Equal(HttpStatusCode.OK, await HandshakeWithBindingAsync(endpoint, SHA256.HashData(certificate.RawData)));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>A bare Kerberos handshake carrying a tls-server-end-point binding over the given hash.</summary>
    private static async Task<HttpStatusCode> HandshakeWithBindingAsync(Uri endpoint, byte[] certificateHash)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        });
        using var binding = new EndpointBinding(certificateHash);
        using var session = new NegotiateAuthentication(new NegotiateAuthenticationClientOptions
        {
            Package = "Kerberos",
            Credential = new NetworkCredential(TestRealm.User("alice"), TestRealm.Password),
            TargetName = "HTTP/winrm.a.test",
            Binding = binding,
        });
        var token = session.GetOutgoingBlob(ReadOnlySpan<byte>.Empty, out _);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent([]) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Kerberos", Convert.ToBase64String(token!));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=winrm.a.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }

    /// <summary>A tls-server-end-point binding as .NET hands bindings to GSSAPI: a 32-byte header, then the data.</summary>
    private sealed class EndpointBinding : ChannelBinding
    {
        private const int HeaderSize = 32;
        private readonly int _size;

        public EndpointBinding(byte[] hash)
            : base(ownsHandle: true)
        {
            byte[] data = [.. "tls-server-end-point:"u8, .. hash];
            _size = HeaderSize + data.Length;
            SetHandle(Marshal.AllocHGlobal(_size));
            Marshal.Copy(new[] { 0, 0, 0, 0, 0, 0, data.Length, HeaderSize }, 0, handle, 8);
            Marshal.Copy(data, 0, handle + HeaderSize, data.Length);
        }

        public override int Size => _size;

        protected override bool ReleaseHandle()
        {
            Marshal.FreeHGlobal(handle);
            return true;
        }
    }

    private static WsManClientOptions Options(PythonKerberosPeer peer, WsManAuthentication authentication) => new()
    {
        Endpoint = peer.Endpoint,
        Authentication = authentication,
        Credential = new WsManCredential(TestRealm.User("alice"), TestRealm.Password),
        ServicePrincipalName = "HTTP/winrm.a.test",
        OperationTimeout = TimeSpan.FromSeconds(10),
    };
}
