using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Tests.AgainstSimulator;

/// <summary>Each transport and authentication mode against the simulator's real listeners.</summary>
public class AuthenticationTests(SimulatorFleet fleet) : IClassFixture<SimulatorFleet>
{
    private const string StdRegProv = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/StdRegProv";

    [Theory]
    [InlineData(WsManAuthentication.Ntlm)]
    [InlineData(WsManAuthentication.Negotiate)]
    public async Task Ntlm_and_Negotiate_seal_every_message_over_plain_HTTP(WsManAuthentication authentication)
    {
        // The strict host refuses any unencrypted message, so an answer proves the sealing is right.
        await using var client = new WsManClient(Options(fleet.Strict.EndpointFor("pc-stuck"), authentication));

        Assert.Equal("true", await ReadProvisioningModeAsync(client));
        Assert.Equal("true", await ReadProvisioningModeAsync(client));
    }

    [Theory]
    [InlineData(WsManAuthentication.Ntlm)]
    [InlineData(WsManAuthentication.Negotiate)]
    public async Task Ntlm_and_Negotiate_over_HTTPS_send_plain_SOAP_inside_TLS(WsManAuthentication authentication)
    {
        await using var client = new WsManClient(Options(fleet.Strict.HttpsEndpointFor("pc-stuck"), authentication) with
        {
            Tls = new WsManTlsOptions { PinnedSha256Thumbprint = Sha256(fleet.Strict.HttpsCertificate!) },
        });

        Assert.Equal("true", await ReadProvisioningModeAsync(client));
    }

    [Fact]
    public async Task Basic_over_HTTPS_with_a_pinned_certificate()
    {
        await using var client = new WsManClient(Options(fleet.Strict.HttpsEndpointFor("pc-stuck"), WsManAuthentication.Basic) with
        {
            Tls = new WsManTlsOptions { PinnedSha256Thumbprint = string.Join(':', Convert.ToHexString(SHA256.HashData(fleet.Strict.HttpsCertificate!.RawData)).Chunk(2).Select(c => new string(c))) },
        });

        Assert.Equal("true", await ReadProvisioningModeAsync(client));
    }

    [Fact]
    public async Task Basic_over_HTTPS_trusting_a_custom_CA()
    {
        var ca = X509CertificateLoader.LoadCertificate(fleet.Strict.HttpsCertificate!.RawData);
        await using var client = new WsManClient(Options(fleet.Strict.HttpsEndpointFor("pc-stuck"), WsManAuthentication.Basic) with
        {
            Tls = new WsManTlsOptions { TrustedCertificateAuthorities = [ca] },
        });

        Assert.Equal("true", await ReadProvisioningModeAsync(client));
    }

    [Fact]
    public async Task An_untrusted_certificate_is_a_TLS_error_by_default()
    {
        await using var client = new WsManClient(Options(fleet.Strict.HttpsEndpointFor("pc-stuck"), WsManAuthentication.Basic));

        var error = await Assert.ThrowsAsync<CimException>(() => ReadProvisioningModeAsync(client));

        Assert.Equal(CimErrorCategory.Tls, error.Category);
    }

    [Fact]
    public async Task A_wrong_pin_is_a_TLS_error()
    {
        await using var client = new WsManClient(Options(fleet.Strict.HttpsEndpointFor("pc-stuck"), WsManAuthentication.Basic) with
        {
            Tls = new WsManTlsOptions { PinnedSha256Thumbprint = new string('a', 64) },
        });

        Assert.Equal(CimErrorCategory.Tls, (await Assert.ThrowsAsync<CimException>(() => ReadProvisioningModeAsync(client))).Category);
    }

    [Fact]
    public async Task Skipping_validation_is_possible_when_asked_for()
    {
        await using var client = new WsManClient(Options(fleet.Strict.HttpsEndpointFor("pc-stuck"), WsManAuthentication.Basic) with
        {
            Tls = new WsManTlsOptions { SkipCertificateValidation = true },
        });

        Assert.Equal("true", await ReadProvisioningModeAsync(client));
    }

    [Fact]
    public async Task Basic_over_plain_HTTP_works_where_both_sides_allow_it()
    {
        await using var client = new WsManClient(Options(fleet.Lab.EndpointFor("pc-stuck"), WsManAuthentication.Basic) with { AllowUnencrypted = true });

        Assert.Equal("true", await ReadProvisioningModeAsync(client));
    }

    [Fact]
    public void Basic_over_plain_HTTP_is_refused_without_permission()
    {
        var error = Assert.Throws<CimException>(() => new WsManClient(Options(fleet.Lab.EndpointFor("pc-stuck"), WsManAuthentication.Basic)));

        Assert.Equal(CimErrorCategory.Configuration, error.Category);
    }

    [Theory]
    [InlineData(WsManAuthentication.Ntlm)]
    [InlineData(WsManAuthentication.Negotiate)]
    [InlineData(WsManAuthentication.Basic)]
    public async Task A_wrong_password_is_AccessDenied(WsManAuthentication authentication)
    {
        var endpoint = authentication == WsManAuthentication.Basic ? fleet.Lab.EndpointFor("pc-stuck") : fleet.Strict.EndpointFor("pc-stuck");
        await using var client = new WsManClient(Options(endpoint, authentication) with
        {
            Credential = SimulatorFleet.Credential with { Password = "wrong" },
            AllowUnencrypted = true,
        });

        var error = await Assert.ThrowsAsync<CimException>(() => ReadProvisioningModeAsync(client));

        Assert.Equal(CimErrorCategory.AccessDenied, error.Category);
        Assert.DoesNotContain("wrong", error.Message);
    }

    [Fact]
    public async Task A_device_that_refuses_the_user_is_AccessDenied()
    {
        await using var client = new WsManClient(Options(fleet.Strict.EndpointFor("pc-denied"), WsManAuthentication.Ntlm));

        Assert.Equal(CimErrorCategory.AccessDenied, (await Assert.ThrowsAsync<CimException>(() => ReadProvisioningModeAsync(client))).Category);
    }

    [Fact]
    public async Task A_silent_device_times_out_within_the_operation_limit()
    {
        await using var client = new WsManClient(Options(fleet.Strict.EndpointFor("pc-silent"), WsManAuthentication.Ntlm) with
        {
            OperationTimeout = TimeSpan.FromSeconds(1),
            ReplyGrace = TimeSpan.FromMilliseconds(200),
        });
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<CimException>(() => ReadProvisioningModeAsync(client));

        Assert.Equal(CimErrorCategory.Timeout, error.Category);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("pc-down", CimErrorCategory.Network)]
    [InlineData("pc-garbage", CimErrorCategory.Protocol)]
    [InlineData("pc-stall", CimErrorCategory.Timeout)]
    public async Task Misbehaving_devices_give_their_categories_over_sealed_NTLM(string host, CimErrorCategory expected)
    {
        await using var client = new WsManClient(Options(fleet.Strict.EndpointFor(host), WsManAuthentication.Ntlm) with
        {
            OperationTimeout = TimeSpan.FromSeconds(1),
            ReplyGrace = TimeSpan.FromMilliseconds(200),
        });
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<CimException>(() => ReadProvisioningModeAsync(client));

        Assert.Equal(expected, error.Category);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_session_keeps_its_connection_and_authenticates_again_when_it_is_dropped()
    {
        await using var relay = new LoopbackRelay(fleet.Strict.HttpBaseAddress);
        await using var client = new WsManClient(Options(relay.Rewrite(fleet.Strict.EndpointFor("pc-stuck")), WsManAuthentication.Ntlm));

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("true", await ReadProvisioningModeAsync(client));
        }

        Assert.Equal(1, relay.Connections);
        relay.DropAll();

        Assert.Equal("true", await ReadProvisioningModeAsync(client));
        Assert.Equal("true", await ReadProvisioningModeAsync(client));
        Assert.Equal(2, relay.Connections);
    }

    [Fact]
    public async Task A_sealed_reply_altered_on_the_way_fails_its_integrity_check()
    {
        await using var relay = new LoopbackRelay(fleet.Strict.HttpBaseAddress, chunk =>
        {
            // Flip one sealed byte just before the closing boundary of an encrypted reply.
            var closing = chunk.Span.IndexOf("--Encrypted Boundary--"u8);
            if (closing > 0)
            {
                chunk.Span[closing - 1] ^= 0x5A;
            }
        });
        await using var client = new WsManClient(Options(relay.Rewrite(fleet.Strict.EndpointFor("pc-stuck")), WsManAuthentication.Ntlm));

        var error = await Assert.ThrowsAsync<CimException>(() => ReadProvisioningModeAsync(client));

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
        Assert.Contains("integrity", error.Message);
    }

    private static WsManClientOptions Options(Uri endpoint, WsManAuthentication authentication) => new()
    {
        Endpoint = endpoint,
        Authentication = authentication,
        Credential = SimulatorFleet.Credential,
        OperationTimeout = TimeSpan.FromSeconds(5),
    };

    private static string Sha256(X509Certificate2 certificate) => Convert.ToHexString(SHA256.HashData(certificate.RawData));

    internal static async Task<string?> ReadProvisioningModeAsync(WsManClient client)
    {
        var result = await client.InvokeAsync(StdRegProv, "GetStringValue",
            [CimParameter.Of("hDefKey", 2147483650L), CimParameter.Of("sSubKeyName", @"SOFTWARE\Microsoft\CCM\CcmExec"), CimParameter.Of("sValueName", "ProvisioningMode")],
            null, CancellationToken.None);
        return result["sValue"].AsString();
    }
}
