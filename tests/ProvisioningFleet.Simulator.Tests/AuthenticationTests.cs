using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>One simulator configured like a default Windows listener (AllowUnencrypted=false), plus HTTPS.</summary>
public sealed class EncryptedOnlySimulator : IAsyncLifetime
{
    public SimulatedFleetHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            HttpsPort = 0,
            AllowUnencrypted = false,
            Users = [new SimulatedUser("fleet-svc", "Pr0v!sioning", "LAB"), new SimulatedUser("local", "L0cal-pw")],
        });
        Host.Fleet.Add(new SimulatedDevice("pc-1.lab.example") { ProvisioningMode = "true" });
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>NTLM/Negotiate with sealing, HTTPS, and Windows' AllowUnencrypted=false.</summary>
public sealed class AuthenticationTests(EncryptedOnlySimulator simulator) : IClassFixture<EncryptedOnlySimulator>
{
    private static readonly string Probe = SimulatorClient.InvokeEnvelope("root/default", "StdRegProv", "GetStringValue",
        "<p:hDefKey>2147483650</p:hDefKey><p:sSubKeyName>SOFTWARE\\Microsoft\\CCM\\CcmExec</p:sSubKeyName><p:sValueName>ProvisioningMode</p:sValueName>");

    private readonly SimulatedFleetHost _host = simulator.Host;

    [Theory]
    [InlineData("NTLM", "Negotiate", "LAB")]
    [InlineData("NTLM", "NTLM", "LAB")]
    [InlineData("Negotiate", "Negotiate", "LAB")]
    [InlineData("NTLM", "Negotiate", "")]
    public async Task A_Negotiate_session_seals_both_ways_on_its_connection(string package, string scheme, string domain)
    {
        using var client = new NegotiateTestClient(_host.EndpointFor("pc-1.lab.example"), new NetworkCredential("fleet-svc", "Pr0v!sioning", domain), package, scheme);

        Assert.Equal(HttpStatusCode.OK, await client.AuthenticateAsync());
        var (status, reply) = await client.SendSealedAsync(Probe);
        var (again, secondReply) = await client.SendSealedAsync(Probe);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<p:sValue>true</p:sValue>", reply);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Contains("<p:sValue>true</p:sValue>", secondReply);
    }

    [Fact]
    public async Task A_wrong_NTLM_password_is_refused()
    {
        using var client = new NegotiateTestClient(_host.EndpointFor("pc-1.lab.example"), new NetworkCredential("fleet-svc", "wrong", "LAB"));

        Assert.Equal(HttpStatusCode.Unauthorized, await client.AuthenticateAsync());
    }

    [Fact]
    public async Task An_unsealed_message_on_a_Negotiate_session_over_HTTP_is_refused_when_unencrypted_is_not_allowed()
    {
        using var client = new NegotiateTestClient(_host.EndpointFor("pc-1.lab.example"), new NetworkCredential("local", "L0cal-pw"));
        Assert.Equal(HttpStatusCode.OK, await client.AuthenticateAsync());

        Assert.Equal(HttpStatusCode.BadRequest, await client.SendPlainAsync(Probe));
    }

    [Fact]
    public async Task Basic_is_refused_over_HTTP_but_accepted_over_HTTPS_with_the_generated_certificate()
    {
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == _host.HttpsCertificate!.Thumbprint,
        };
        using var http = new HttpClient(handler);

        using var overHttp = await http.SendAsync(BasicRequest(_host.EndpointFor("pc-1.lab.example")));
        using var overHttps = await http.SendAsync(BasicRequest(_host.HttpsEndpointFor("pc-1.lab.example")));

        Assert.Equal(HttpStatusCode.Unauthorized, overHttp.StatusCode);
        Assert.Equal(["Negotiate", "Kerberos"], overHttp.Headers.WwwAuthenticate.Select(h => h.Scheme));
        Assert.Equal(HttpStatusCode.OK, overHttps.StatusCode);
        Assert.Contains("<p:sValue>true</p:sValue>", await overHttps.Content.ReadAsStringAsync());
        Assert.Contains(_host.HttpsCertificate!.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsFromAlternativeName, false), new[] { "localhost" });
    }

    [Theory]
    [InlineData("flip a sealed byte")]
    [InlineData("lie about the length")]
    [InlineData("drop the closing boundary")]
    public async Task A_tampered_or_misframed_sealed_message_is_refused_and_changes_nothing(string damage)
    {
        var device = _host.Fleet.Add(new SimulatedDevice($"tamper-{damage.Replace(' ', '-')}.lab.example"));
        device.EnterProvisioningMode(TimeSpan.FromDays(3));
        using var client = new NegotiateTestClient(_host.EndpointFor(device.HostName), new NetworkCredential("fleet-svc", "Pr0v!sioning", "LAB"));
        Assert.Equal(HttpStatusCode.OK, await client.AuthenticateAsync());
        var fix = SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "SetClientProvisioningMode", "<p:bEnable>false</p:bEnable>");

        var (status, _) = await client.SendSealedAsync(fix, bytes => damage switch
        {
            "flip a sealed byte" => Flip(bytes, bytes.Length - 40),
            // Latin-1 maps every byte to one char and back, so the binary part survives the edit.
            "lie about the length" => Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(bytes)
                .Replace($"Length={Encoding.UTF8.GetByteCount(fix)}", "Length=12", StringComparison.Ordinal)),
            _ => bytes[..^"--Encrypted Boundary--\r\n".Length],
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(device.InProvisioningMode);
        Assert.DoesNotContain(_host.Fleet.Invocations(device.HostName), r => r.Method == "SetClientProvisioningMode");
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = bytes.ToArray();
        copy[at] ^= 0x5A;
        return copy;
    }

    private static HttpRequestMessage BasicRequest(Uri endpoint)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(Probe, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/soap+xml;charset=UTF-8");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("LAB\\fleet-svc:Pr0v!sioning"u8.ToArray()));
        return request;
    }
}
