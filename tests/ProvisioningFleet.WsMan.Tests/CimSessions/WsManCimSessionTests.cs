using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Cim.WsMan;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.WsMan.Cim;
using ProvisioningFleet.WsMan.Tests.AgainstSimulator;

namespace ProvisioningFleet.WsMan.Tests.CimSessions;

/// <summary>The engine's view (ICimSession) over the WS-Man client, against the simulator.</summary>
public class WsManCimSessionTests(SimulatorFleet fleet) : IClassFixture<SimulatorFleet>
{
    private static readonly CimCredential Credential = new(SimulatorFleet.User, SimulatorFleet.Password, SimulatorFleet.Domain);

    private CimTarget Target(string host, CimAuthentication authentication = CimAuthentication.Ntlm) =>
        new(host, fleet.Strict.EndpointFor(host), CimTransport.Http, authentication, Credential);

    [Fact]
    public async Task Query_get_and_invoke_map_namespaces_and_classes_to_resource_uris()
    {
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings(), TimeProvider.System);
        await using var session = factory.Open(Target("pc-stuck"));

        var processes = await session.QueryAsync("root/cimv2", "SELECT Name, ProcessId FROM Win32_Process WHERE Name = 'TSManager.exe'", 10, CancellationToken.None);
        var client = await session.GetAsync(@"root\ccm", "CCM_Client", new Dictionary<string, string>(), CancellationToken.None);
        var mode = await session.InvokeAsync("root/default", "StdRegProv", "GetStringValue",
            [CimParameter.Of("hDefKey", 2147483650L), CimParameter.Of("sSubKeyName", @"SOFTWARE\Microsoft\CCM\CcmExec"), CimParameter.Of("sValueName", "ProvisioningMode")],
            null, CancellationToken.None);

        var process = Assert.Single(processes);
        Assert.Equal("Win32_Process", process.ClassName);
        Assert.Equal("TSManager.exe", process["Name"].AsString());
        Assert.StartsWith("GUID:", client["ClientId"].AsString());
        Assert.Equal("true", mode["sValue"].AsString());
    }

    [Fact]
    public async Task A_static_fix_reaches_root_ccm_SMS_Client()
    {
        var device = fleet.Strict.Fleet.Add(new SimulatedDevice("pc-cim-" + Guid.NewGuid().ToString("N")[..8]).EnterProvisioningMode());
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings(), TimeProvider.System);
        await using var session = factory.Open(Target(device.HostName, CimAuthentication.Negotiate));

        await session.InvokeAsync("root/ccm", "SMS_Client", "SetClientProvisioningMode", [CimParameter.Of("bEnable", false)], null, CancellationToken.None);

        Assert.False(device.InProvisioningMode);
        Assert.Equal("root/ccm", Assert.Single(fleet.Strict.Fleet.Invocations(device.HostName)).Namespace, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Sessions_are_pooled_per_endpoint_and_credential()
    {
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings(), TimeProvider.System);

        await using (var first = factory.Open(Target("pc-stuck")))
        await using (var second = factory.Open(Target("pc-stuck")))
        await using (var other = factory.Open(Target("pc-healthy")))
        await using (var rotated = factory.Open(Target("pc-stuck") with { Credential = Credential with { Password = "rotated" } }))
        {
            await first.GetAsync("root/cimv2", "Win32_OperatingSystem", new Dictionary<string, string>(), CancellationToken.None);
            await second.GetAsync("root/cimv2", "Win32_OperatingSystem", new Dictionary<string, string>(), CancellationToken.None);
        }

        Assert.Equal(3, factory.PooledSessions);
    }

    [Fact]
    public async Task A_missing_client_is_NotFound_through_the_session()
    {
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings(), TimeProvider.System);
        await using var session = factory.Open(Target("pc-noclient"));

        var error = await Assert.ThrowsAsync<CimException>(() => session.QueryAsync("root/ccm", "SELECT * FROM CCM_Client", 1, CancellationToken.None));

        Assert.Equal(CimErrorCategory.NotFound, error.Category);
    }

    [Fact]
    public async Task Basic_over_HTTP_is_refused_by_every_call_unless_allowed()
    {
        var device = fleet.Lab.Fleet.Add(new SimulatedDevice("pc-basic-" + Guid.NewGuid().ToString("N")[..8]));
        var target = new CimTarget(device.HostName, fleet.Lab.EndpointFor(device.HostName), CimTransport.Http, CimAuthentication.Basic, Credential);
        await using var strict = new WsManCimSessionFactory(new WsManSessionSettings(), TimeProvider.System);
        await using var lab = new WsManCimSessionFactory(new WsManSessionSettings { AllowUnencrypted = true }, TimeProvider.System);

        await using var refused = strict.Open(target);
        var error = await Assert.ThrowsAsync<CimException>(() => refused.InvokeAsync("root/ccm", "SMS_Client", "SetClientProvisioningMode",
            [CimParameter.Of("bEnable", false)], null, CancellationToken.None));
        Assert.Equal(CimErrorCategory.Configuration, error.Category);
        Assert.Empty(fleet.Lab.Fleet.Invocations(device.HostName));

        await using var allowed = lab.Open(target);
        await allowed.InvokeAsync("root/ccm", "SMS_Client", "SetClientProvisioningMode", [CimParameter.Of("bEnable", false)], null, CancellationToken.None);
        Assert.Single(fleet.Lab.Fleet.Invocations(device.HostName));
    }

    [Theory]
    [InlineData("SELECT * FROM Win32_Process", "Win32_Process")]
    [InlineData("select Name from win32_service where State='Running'", "win32_service")]
    [InlineData("SELECT\tClientId\nFROM\nCCM_Client", "CCM_Client")]
    public void The_class_of_a_projection_comes_from_the_FROM_clause(string wql, string expected) =>
        Assert.Equal(expected, WsManCimSession.ClassOf(wql));
}
