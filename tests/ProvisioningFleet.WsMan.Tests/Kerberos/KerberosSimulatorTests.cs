using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing.Kerberos;
using ProvisioningFleet.WsMan.Cim;
using ProvisioningFleet.WsMan.Tests.AgainstSimulator;

namespace ProvisioningFleet.WsMan.Tests.Kerberos;

/// <summary>
/// Two simulator hosts as Windows ships WinRM (AllowUnencrypted=false), each accepting Kerberos with
/// the test realm's keytab and letting in one user: alice@A.TEST on the A host, bob@B.TEST on the B host.
/// </summary>
public sealed class KerberosSimulatorFleet : IAsyncLifetime
{
    public SimulatedFleetHost RealmA { get; private set; } = null!;

    public SimulatedFleetHost RealmB { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (TestRealm.SkipReason is not null)
        {
            return;
        }

        await TestRealm.StartAsync();
        RealmA = await StartAsync("winrm.a.test", new SimulatedUser("alice", "", TestRealm.RealmA), new SimulatedUser(TestRealm.ShortLivedUser, "", TestRealm.RealmA),
            new SimulatedUser(TestRealm.ServiceAccount, "", TestRealm.RealmA));
        RealmB = await StartAsync("winrm.b.test", new SimulatedUser("bob", "", TestRealm.RealmB));
    }

    public async Task DisposeAsync()
    {
        if (RealmA is not null)
        {
            await RealmA.DisposeAsync();
            await RealmB.DisposeAsync();
        }
    }

    private static async Task<SimulatedFleetHost> StartAsync(string hostName, params SimulatedUser[] users)
    {
        var host = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            HttpsPort = 0,
            AllowUnencrypted = false,
            AllowBasic = false,
            Users = users,
            EnableInspection = false,
            KerberosKeytab = TestRealm.Keytab,
        });
        host.Fleet.Add(new SimulatedDevice(hostName)
        {
            ProvisioningMaxMinutes = 120,
            RunningProcesses = ["TSManager.exe"],
        }.EnterProvisioningMode(TimeSpan.FromHours(3)));
        return host;
    }
}

/// <summary>Our client and the simulator's acceptor, both on the system GSSAPI, against the real KDC.</summary>
public sealed class KerberosSimulatorTests(KerberosSimulatorFleet fleet) : IClassFixture<KerberosSimulatorFleet>
{
    [KerberosTheory]
    [InlineData(WsManAuthentication.Kerberos)]
    [InlineData(WsManAuthentication.Negotiate)]
    public async Task Sealed_Invoke_and_Enumerate_over_plain_HTTP(WsManAuthentication authentication)
    {
        // The host refuses anything unsealed, so answers prove both directions are sealed right.
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "alice@A.TEST") with { Authentication = authentication });

        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));
        var processes = await client.QueryAsync(WsManClient.WmiResourceUri("root/cimv2", "*"),
            "SELECT Name FROM Win32_Process WHERE Name='TSManager.exe'", CancellationToken.None, "Win32_Process");
        Assert.Equal("TSManager.exe", Assert.Single(processes)["Name"].AsString());
    }

    [KerberosFact]
    public async Task A_DOMAIN_backslash_user_credential_with_a_lower_case_realm_works()
    {
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "alice") with
        {
            Credential = new WsManCredential("alice", TestRealm.Password, "a.test"),
        });

        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));
    }

    [KerberosFact]
    public async Task Without_a_credential_the_service_is_its_own_keytab_identity()
    {
        // KRB5_CLIENT_KTNAME names the service account's keytab, as the Kubernetes manifests mount it.
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "unused") with { Credential = null });

        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));
    }

    [KerberosFact]
    public async Task Two_realms_at_once_keep_their_own_tickets()
    {
        // Each host lets in only its own realm's user: a shared ticket cache would present the wrong one.
        await using var a = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "alice@A.TEST"));
        await using var b = new WsManClient(Options(fleet.RealmB, "winrm.b.test", "bob@B.TEST"));

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => AuthenticationTests.ReadProvisioningModeAsync(i % 2 == 0 ? a : b)));

        Assert.All(answers, answer => Assert.Equal("true", answer));
    }

    [KerberosFact]
    public async Task The_client_authenticates_again_when_the_connection_and_its_context_are_dropped()
    {
        await using var relay = new LoopbackRelay(fleet.RealmA.HttpBaseAddress);
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "alice@A.TEST") with
        {
            Endpoint = relay.Rewrite(fleet.RealmA.EndpointFor("winrm.a.test")),
        });

        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));
        relay.DropAll();

        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));
        Assert.Equal(2, relay.Connections);
    }

    [KerberosFact]
    public async Task An_expired_ticket_gets_fresh_tickets_without_failing_the_call()
    {
        // This user's tickets live 4 seconds; sealing with an expired context fails in GSSAPI itself.
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", TestRealm.User(TestRealm.ShortLivedUser)));
        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));

        await Task.Delay(TimeSpan.FromSeconds(5));

        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));
    }

    [KerberosFact]
    public async Task A_wrong_password_is_AccessDenied_with_the_Kerberos_reason()
    {
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "alice@A.TEST") with
        {
            Credential = new WsManCredential("alice@A.TEST", "wrong-password"),
        });

        var error = await Assert.ThrowsAsync<CimException>(() => AuthenticationTests.ReadProvisioningModeAsync(client));

        Assert.Equal(CimErrorCategory.AccessDenied, error.Category);
        Assert.Contains("password", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("wrong-password", error.Message);
    }

    [KerberosFact]
    public async Task An_unknown_user_is_AccessDenied_naming_the_principal()
    {
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "nobody@A.TEST"));

        var error = await Assert.ThrowsAsync<CimException>(() => AuthenticationTests.ReadProvisioningModeAsync(client));

        Assert.Equal(CimErrorCategory.AccessDenied, error.Category);
        Assert.Contains("nobody@A.TEST", error.Message);
        Assert.Contains("not found", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [KerberosFact]
    public async Task An_unknown_SPN_is_a_Configuration_error_naming_it()
    {
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "alice@A.TEST") with
        {
            ServicePrincipalName = "HTTP/not-registered.a.test",
        });

        var error = await Assert.ThrowsAsync<CimException>(() => AuthenticationTests.ReadProvisioningModeAsync(client));

        Assert.Equal(CimErrorCategory.Configuration, error.Category);
        Assert.Contains("HTTP/not-registered.a.test", error.Message);
        Assert.Contains("not found", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [KerberosFact]
    public async Task No_reachable_KDC_is_a_Network_error()
    {
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "alice@UNREACHABLE.TEST"));

        var error = await Assert.ThrowsAsync<CimException>(() => AuthenticationTests.ReadProvisioningModeAsync(client));

        Assert.Equal(CimErrorCategory.Network, error.Category);
        Assert.Contains("UNREACHABLE.TEST", error.Message);
    }

    [KerberosFact]
    public async Task A_realm_without_a_mapping_is_a_Configuration_error()
    {
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "alice") with
        {
            Credential = new WsManCredential("alice", TestRealm.Password, "CORP"),
        });

        var error = await Assert.ThrowsAsync<CimException>(() => AuthenticationTests.ReadProvisioningModeAsync(client));

        Assert.Equal(CimErrorCategory.Configuration, error.Category);
        Assert.Contains("CORP", error.Message);
    }

    [KerberosFact]
    public async Task Over_HTTPS_the_channel_binding_is_sent_and_the_body_is_plain_SOAP()
    {
        await using var client = new WsManClient(Options(fleet.RealmA, "winrm.a.test", "alice@A.TEST") with
        {
            Endpoint = fleet.RealmA.HttpsEndpointFor("winrm.a.test"),
            Tls = new WsManTlsOptions { SkipCertificateValidation = true },
        });

        Assert.Equal("true", await AuthenticationTests.ReadProvisioningModeAsync(client));
    }

    private static WsManClientOptions Options(SimulatedFleetHost host, string device, string principal) => new()
    {
        Endpoint = host.EndpointFor(device),
        Authentication = WsManAuthentication.Kerberos,
        Credential = new WsManCredential(principal, TestRealm.Password),
        ServicePrincipalName = "HTTP/" + device,
        OperationTimeout = TimeSpan.FromSeconds(10),
    };
}
