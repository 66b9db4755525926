using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Tests.AgainstSimulator;

/// <summary>Every operation over real HTTP against the simulator, sealed NTLM on a host that refuses plain messages.</summary>
public class OperationsTests(SimulatorFleet fleet) : IClassFixture<SimulatorFleet>
{
    private const string Cimv2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/";
    private const uint Hklm = 0x80000002;
    private const string CcmExec = @"SOFTWARE\Microsoft\CCM\CcmExec";

    private WsManClient Ntlm(string host) => new(new WsManClientOptions
    {
        Endpoint = fleet.Strict.EndpointFor(host),
        Authentication = WsManAuthentication.Ntlm,
        Credential = SimulatorFleet.Credential,
        OperationTimeout = TimeSpan.FromSeconds(5),
    });

    [Fact]
    public async Task Identify_names_the_product()
    {
        await using var client = Ntlm("pc-healthy");

        var identity = await client.IdentifyAsync(CancellationToken.None);

        Assert.Equal("Microsoft Corporation", identity.ProductVendor);
        Assert.Equal("http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd", identity.ProtocolVersion);
    }

    [Fact]
    public async Task Get_reads_a_singleton_and_an_instance_by_selector()
    {
        await using var client = Ntlm("pc-stuck");

        var os = await client.GetAsync(Cimv2 + "Win32_OperatingSystem", null, CancellationToken.None);
        var processes = await client.QueryAsync(Cimv2 + "*", "SELECT * FROM Win32_Process WHERE Name = 'TSManager.exe'", CancellationToken.None);
        var handle = Assert.Single(processes)["Handle"].AsString()!;
        var process = await client.GetAsync(Cimv2 + "Win32_Process", new Dictionary<string, string> { ["Handle"] = handle }, CancellationToken.None);

        Assert.Equal("Win32_OperatingSystem", os.ClassName);
        Assert.NotNull(os["LocalDateTime"].AsDateTime());
        Assert.Equal("TSManager.exe", process["Name"].AsString());
    }

    [Fact]
    public async Task Query_with_WQL_returns_typed_instances()
    {
        await using var client = Ntlm("pc-stuck");

        var processes = await client.QueryAsync(Cimv2 + "*", "SELECT * FROM Win32_Process", CancellationToken.None, "Win32_Process");

        Assert.Contains(processes, p => p["Name"].AsString() == "TSManager.exe");
        Assert.Contains(processes, p => p["Name"].AsString() == "svchost.exe" || p["Name"].AsString() == "System");
        Assert.All(processes, p => Assert.Equal("Win32_Process", p.ClassName));
        Assert.All(processes, p => Assert.NotNull(p["ProcessId"].AsUInt32()));
    }

    [Fact]
    public async Task Enumerate_without_optimization_then_Pull_until_the_end()
    {
        await using var client = Ntlm("pc-stuck");

        var first = await client.EnumerateAsync(Cimv2 + "*", "SELECT * FROM Win32_Process", optimize: false, CancellationToken.None);
        Assert.Empty(first.Items);
        Assert.NotNull(first.Context);
        var items = new List<CimInstance>();
        var page = first;
        while (page.Context is { } context)
        {
            page = await client.PullAsync(Cimv2 + "*", context, CancellationToken.None);
            items.AddRange(page.Items);
        }

        Assert.Contains(items, p => p["Name"].AsString() == "TSManager.exe");
    }

    [Fact]
    public async Task Release_ends_an_enumeration_so_a_later_Pull_faults()
    {
        await using var client = Ntlm("pc-stuck");
        var first = await client.EnumerateAsync(Cimv2 + "*", "SELECT * FROM Win32_Process", optimize: false, CancellationToken.None);

        await client.ReleaseAsync(Cimv2 + "*", first.Context!, CancellationToken.None);
        var error = await Assert.ThrowsAsync<CimException>(() => client.PullAsync(Cimv2 + "*", first.Context!, CancellationToken.None));

        Assert.Equal(CimErrorCategory.Fault, error.Category);
    }

    [Fact]
    public async Task Invoke_reads_registry_strings_and_arrays()
    {
        await using var client = Ntlm("pc-stuck");

        var mode = await client.InvokeAsync(Cimv2 + "StdRegProv", "GetStringValue",
            [CimParameter.Of("hDefKey", (long)Hklm), CimParameter.Of("sSubKeyName", CcmExec), CimParameter.Of("sValueName", "ProvisioningMode")],
            null, CancellationToken.None);
        var values = await client.InvokeAsync(Cimv2 + "StdRegProv", "EnumValues",
            [CimParameter.Of("hDefKey", (long)Hklm), CimParameter.Of("sSubKeyName", CcmExec)],
            null, CancellationToken.None);
        var maxMinutes = await client.InvokeAsync(Cimv2 + "StdRegProv", "GetDWORDValue",
            [CimParameter.Of("hDefKey", (long)Hklm), CimParameter.Of("sSubKeyName", CcmExec), CimParameter.Of("sValueName", "ProvisioningMaxMinutes")],
            null, CancellationToken.None);

        Assert.Equal(0u, mode.ReturnValue.AsUInt32());
        Assert.Equal("true", mode["sValue"].AsString());
        Assert.Equal(CimValueKind.Array, values["sNames"].Kind);
        Assert.Contains("ProvisioningMode", values["sNames"].Items.Select(v => v.AsString()));
        Assert.Equal(values["sNames"].Items.Count, values["Types"].Items.Count);
        Assert.Equal(120u, maxMinutes["uValue"].AsUInt32());
    }

    [Fact]
    public async Task A_missing_value_answers_ReturnValue_1_with_a_nil_out_parameter()
    {
        await using var client = Ntlm("pc-healthy");

        var result = await client.InvokeAsync(Cimv2 + "StdRegProv", "GetStringValue",
            [CimParameter.Of("hDefKey", (long)Hklm), CimParameter.Of("sSubKeyName", CcmExec), CimParameter.Of("sValueName", "NoSuchValue")],
            null, CancellationToken.None);

        Assert.Equal(1u, result.ReturnValue.AsUInt32());
        Assert.True(result["sValue"].IsNull);
    }

    [Fact]
    public async Task Static_SetClientProvisioningMode_with_a_boolean_reaches_the_client()
    {
        var device = fleet.Strict.Fleet.Add(new Simulator.Fleet.SimulatedDevice("pc-fix-" + Guid.NewGuid().ToString("N")[..8]).EnterProvisioningMode());
        await using var client = Ntlm(device.HostName);

        await client.InvokeAsync("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/ccm/SMS_Client", "SetClientProvisioningMode",
            [CimParameter.Of("bEnable", false)], null, CancellationToken.None);

        Assert.False(device.InProvisioningMode);
        var call = Assert.Single(fleet.Strict.Fleet.Invocations(device.HostName));
        Assert.Equal("SetClientProvisioningMode", call.Method);
        Assert.Equal("false", call.Parameters["bEnable"]);
    }

    [Fact]
    public async Task A_device_without_a_client_is_NotFound_with_the_WMI_code()
    {
        await using var client = Ntlm("pc-noclient");

        var error = await Assert.ThrowsAsync<CimException>(() => client.GetAsync(
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/ccm/CCM_Client", null, CancellationToken.None));

        Assert.Equal(CimErrorCategory.NotFound, error.Category);
        Assert.Equal(0x8004100EL, error.Code);
    }

    [Fact]
    public async Task An_instance_call_on_a_static_method_is_a_fault()
    {
        await using var client = Ntlm("pc-healthy");

        var error = await Assert.ThrowsAsync<CimException>(() => client.InvokeAsync(
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/ccm/SMS_Client", "SetClientProvisioningMode",
            [CimParameter.Of("bEnable", false)], new Dictionary<string, string> { ["Name"] = "x" }, CancellationToken.None));

        Assert.Equal(CimErrorCategory.Fault, error.Category);
        Assert.NotNull(error.Code);
    }

    [Fact]
    public async Task One_session_serves_concurrent_callers_in_order()
    {
        await using var client = Ntlm("pc-stuck");

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => client.InvokeAsync(Cimv2 + "StdRegProv", "GetStringValue",
            [CimParameter.Of("hDefKey", (long)Hklm), CimParameter.Of("sSubKeyName", CcmExec), CimParameter.Of("sValueName", "ProvisioningMode")],
            null, CancellationToken.None)));

        Assert.All(results, r => Assert.Equal("true", r["sValue"].AsString()));
    }
}
