using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing.Kerberos;
using ProvisioningFleet.WsMan.Tests.AgainstSimulator;
using ProvisioningFleet.WsMan.Transport;

namespace ProvisioningFleet.WsMan.Tests.Kerberos;

/// <summary>
/// Over HTTPS the handshakes carry the tls-server-end-point channel binding (RFC 5929: the SHA-256 of
/// the server certificate), as devices with CbtHardeningLevel=Strict require. The simulator's .NET
/// acceptor cannot check bindings on Linux, so these tests show the binding's value and that sending
/// it leaves Kerberos and NTLM working; an acceptor that enforces it is not part of this run.
/// </summary>
public sealed class ChannelBindingTests : IAsyncLifetime
{
    private const string Device = "winrm.a.test";
    private SimulatedFleetHost _host = null!;

    public async Task InitializeAsync()
    {
        if (TestRealm.SkipReason is null)
        {
            await TestRealm.StartAsync();
        }

        _host = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            HttpsPort = 0,
            AllowUnencrypted = false,
            Users = [new SimulatedUser("alice", TestRealm.Password, TestRealm.RealmA), new SimulatedUser(SimulatorFleet.User, SimulatorFleet.Password, SimulatorFleet.Domain)],
            EnableInspection = false,
            KerberosKeytab = TestRealm.Keytab,
        });
        _host.Fleet.Add(new SimulatedDevice(Device).EnterProvisioningMode(TimeSpan.FromHours(1)));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [KerberosFact]
    public async Task Kerberos_over_HTTPS_with_the_binding_works()
    {
        await using var client = new WsManClient(Options(WsManAuthentication.Kerberos, new WsManCredential("alice@A.TEST", TestRealm.Password)));

        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));
    }

    [Fact]
    public async Task Ntlm_over_HTTPS_with_the_binding_works()
    {
        await using var client = new WsManClient(Options(WsManAuthentication.Ntlm, SimulatorFleet.Credential));

        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));
    }

    [Fact]
    public async Task The_binding_is_tls_server_end_point_over_the_servers_certificate()
    {
        await using var transport = WsManTransport.Create(Options(WsManAuthentication.Ntlm, SimulatorFleet.Credential), NullLogger.Instance);
        await transport.SendAsync(Encoding.UTF8.GetBytes("<not-sent-before-authenticating/>"), CancellationToken.None)
            .ContinueWith(_ => { }, TaskScheduler.Default);

        using var binding = transport.TlsChannelBinding();

        Assert.NotNull(binding);
        var bytes = new byte[binding.Size];
        Marshal.Copy(binding.DangerousGetHandle(), bytes, 0, bytes.Length);
        var expected = Encoding.ASCII.GetBytes("tls-server-end-point:").Concat(SHA256.HashData(_host.HttpsCertificate!.RawData)).ToArray();
        Assert.Equal(expected, bytes[BindingHeaderSize..]);
    }

    private WsManClientOptions Options(WsManAuthentication authentication, WsManCredential credential) => new()
    {
        Endpoint = _host.HttpsEndpointFor(Device),
        Authentication = authentication,
        Credential = credential,
        ServicePrincipalName = "HTTP/" + Device,
        OperationTimeout = TimeSpan.FromSeconds(10),
        Tls = new WsManTlsOptions { PinnedSha256Thumbprint = Convert.ToHexString(SHA256.HashData(_host.HttpsCertificate!.RawData)) },
    };

    private const int BindingHeaderSize = 32;
}
