using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Tests;

public sealed class RegistryProviderTests(SimulatorFixture fixture) : IClassFixture<SimulatorFixture>
{
    private const string CcmExec = "<p:hDefKey>2147483650</p:hDefKey><p:sSubKeyName>SOFTWARE\\Microsoft\\CCM\\CcmExec</p:sSubKeyName>";

    private SimulatedDevice Add(string name, Action<SimulatedDevice>? setup = null)
    {
        var device = new SimulatedDevice(name);
        setup?.Invoke(device);
        return fixture.Host.Fleet.Add(device);
    }

    [Theory]
    [InlineData("root/cimv2")]
    [InlineData("root/default")]
    public async Task GetStringValue_reads_the_provisioning_mode_in_both_namespaces(string ns)
    {
        Add($"reg-mode-{ns.Replace('/', '-')}.corp.example", d => d.ProvisioningMode = "true");
        var client = fixture.Client($"reg-mode-{ns.Replace('/', '-')}.corp.example");

        var output = await client.InvokeAsync(ns, "StdRegProv", "GetStringValue", CcmExec + "<p:sValueName>ProvisioningMode</p:sValueName>");

        Assert.Equal("GetStringValue_OUTPUT", output.Name.LocalName);
        Assert.Equal(SimulatorClient.Wmi + ns + "/StdRegProv", output.Name.NamespaceName);
        Assert.Equal("true", SimulatorClient.Out(output, "sValue"));
        Assert.Equal("0", SimulatorClient.Out(output, "ReturnValue"));
    }

    [Fact]
    public async Task A_missing_value_returns_1_and_a_missing_key_returns_2()
    {
        Add("reg-missing.corp.example", d => d.ProvisioningMode = null);
        Add("reg-noclient.corp.example", d => d.ClientInstalled = false);

        var missingValue = await fixture.Client("reg-missing.corp.example")
            .InvokeAsync("root/default", "StdRegProv", "GetStringValue", CcmExec + "<p:sValueName>ProvisioningMode</p:sValueName>");
        var missingKey = await fixture.Client("reg-noclient.corp.example")
            .InvokeAsync("root/default", "StdRegProv", "GetStringValue", CcmExec + "<p:sValueName>ProvisioningMode</p:sValueName>");

        Assert.Equal("1", SimulatorClient.Out(missingValue, "ReturnValue"));
        Assert.Null(SimulatorClient.Out(missingValue, "sValue"));
        Assert.Equal("2", SimulatorClient.Out(missingKey, "ReturnValue"));
    }

    [Fact]
    public async Task EnumValues_reports_names_and_types_and_the_typed_getters_match_them()
    {
        var device = Add("reg-typed.corp.example", d =>
        {
            d.ProvisioningMode = "true";
            d.ProvisioningEnabledTime = 1_764_000_000;
            d.EnabledTimeAsQword = true;
            d.ProvisioningMaxMinutes = 120;
            d.SystemTaskExcludes = "SchedulerStartup";
        });
        var client = fixture.Client(device.HostName);

        var values = await client.InvokeAsync("root/default", "StdRegProv", "EnumValues", CcmExec);
        var names = values.Elements().Where(e => e.Name.LocalName == "sNames").Select(e => e.Value).ToList();
        var types = values.Elements().Where(e => e.Name.LocalName == "Types").Select(e => e.Value).ToList();
        Assert.Equal(["ProvisioningMode", "ProvisioningEnabledTime", "ProvisioningMaxMinutes", "SystemTaskExcludes"], names);
        Assert.Equal(["1", "11", "4", "1"], types);

        var qword = await client.InvokeAsync("root/default", "StdRegProv", "GetQWORDValue", CcmExec + "<p:sValueName>ProvisioningEnabledTime</p:sValueName>");
        Assert.Equal("1764000000", SimulatorClient.Out(qword, "uValue"));
        var dword = await client.InvokeAsync("root/default", "StdRegProv", "GetDWORDValue", CcmExec + "<p:sValueName>ProvisioningMaxMinutes</p:sValueName>");
        Assert.Equal("120", SimulatorClient.Out(dword, "uValue"));
        var mismatch = await client.InvokeAsync("root/default", "StdRegProv", "GetStringValue", CcmExec + "<p:sValueName>ProvisioningEnabledTime</p:sValueName>");
        Assert.Equal("2147749893", SimulatorClient.Out(mismatch, "ReturnValue"));

        device.EnabledTimeAsQword = false;
        var text = await client.InvokeAsync("root/default", "StdRegProv", "GetStringValue", CcmExec + "<p:sValueName>ProvisioningEnabledTime</p:sValueName>");
        Assert.Equal("1764000000", SimulatorClient.Out(text, "sValue"));
    }

    [Fact]
    public async Task The_device_is_found_by_host_header_on_the_bare_wsman_path()
    {
        Add("reg-byhost.corp.example", d => d.ProvisioningMode = "False");
        var endpoint = new Uri(fixture.Host.HttpBaseAddress, "/wsman");
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent(SimulatorClient.InvokeEnvelope("root/default", "StdRegProv", "GetStringValue",
                CcmExec + "<p:sValueName>ProvisioningMode</p:sValueName>"), System.Text.Encoding.UTF8),
        };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("application/soap+xml;charset=UTF-8");
        request.Headers.Host = "reg-byhost.corp.example:5985";
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String("admin:P@ssw0rd!"u8.ToArray()));
        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<p:sValue>False</p:sValue>", await response.Content.ReadAsStringAsync());
    }
}
