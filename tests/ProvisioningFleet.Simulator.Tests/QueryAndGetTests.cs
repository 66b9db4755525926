using System.Xml.Linq;
using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Tests;

public sealed class QueryAndGetTests(SimulatorFixture fixture) : IClassFixture<SimulatorFixture>
{
    private const string Cimv2All = SimulatorClient.Wmi + "root/cimv2/*";

    private (SimulatedDevice Device, SimulatorClient Client) Add(string name, Action<SimulatedDevice>? setup = null)
    {
        var device = new SimulatedDevice(name);
        setup?.Invoke(device);
        fixture.Host.Fleet.Add(device);
        return (device, fixture.Client(name));
    }

    private static List<XElement> Items(XElement response) =>
        [.. response.Elements().Where(e => e.Name.LocalName == "Items").SelectMany(i => i.Elements())];

    [Fact]
    public async Task A_WQL_query_with_OR_finds_exactly_the_task_sequence_processes()
    {
        var (_, client) = Add("q-ts.corp.example", d => d.RunningProcesses = ["TSManager.exe", "SetupHost.exe", "notepad.exe"]);

        var response = await client.OkAsync(SimulatorClient.EnumerateEnvelope(Cimv2All,
            "SELECT Name, ProcessId FROM Win32_Process WHERE Name='TSManager.exe' OR Name = 'setuphost.exe'"));

        Assert.Equal("EnumerateResponse", response.Name.LocalName);
        Assert.NotNull(response.Element(SimulatorClient.W + "EndOfSequence"));
        var items = Items(response);
        Assert.Equal(["TSManager.exe", "SetupHost.exe"], items.Select(i => i.Elements().Single(e => e.Name.LocalName == "Name").Value));
        Assert.All(items, i => Assert.Equal(["Name", "ProcessId"], i.Elements().Select(e => e.Name.LocalName)));
        Assert.All(items, i => Assert.Equal(SimulatorClient.Wmi + "root/cimv2/Win32_Process", i.Name.NamespaceName));
    }

    [Fact]
    public async Task A_healthy_machine_has_no_task_sequence_process()
    {
        var (_, client) = Add("q-idle.corp.example");

        var response = await client.OkAsync(SimulatorClient.EnumerateEnvelope(Cimv2All,
            "SELECT Name FROM Win32_Process WHERE Name='TSManager.exe' OR Name='SetupHost.exe'"));

        Assert.Empty(Items(response));
        Assert.NotNull(response.Element(SimulatorClient.W + "EndOfSequence"));
    }

    [Fact]
    public async Task Enumerate_then_Pull_pages_by_MaxElements_until_EndOfSequence()
    {
        var (_, client) = Add("q-pull.corp.example");

        var first = await client.OkAsync(SimulatorClient.EnumerateEnvelope(Cimv2All, "SELECT Name FROM Win32_Process", optimize: true, maxElements: 4));
        var names = Items(first).Select(i => i.Value).ToList();
        var context = first.Element(SimulatorClient.N + "EnumerationContext")!.Value;
        Assert.Null(first.Element(SimulatorClient.W + "EndOfSequence"));

        while (true)
        {
            var pull = await client.OkAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull", Cimv2All,
                $"<n:Pull xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><n:EnumerationContext>{context}</n:EnumerationContext><n:MaxElements>4</n:MaxElements></n:Pull>"));
            var page = Items(pull);
            Assert.InRange(page.Count, 1, 4);
            names.AddRange(page.Select(i => i.Value));
            if (pull.Element(SimulatorClient.N + "EndOfSequence") is not null)
            {
                Assert.Null(pull.Element(SimulatorClient.N + "EnumerationContext"));
                break;
            }
        }

        Assert.Equal(11, names.Count);
        Assert.Contains("CcmExec.exe", names);

        var (status, fault) = await client.SendAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull", Cimv2All,
            $"<n:Pull xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><n:EnumerationContext>{context}</n:EnumerationContext></n:Pull>"));
        Assert.Equal(500, status);
        Assert.Contains("InvalidEnumerationContext", fault!.ToString());
    }

    [Fact]
    public async Task Release_ends_an_enumeration()
    {
        var (_, client) = Add("q-release.corp.example");
        var first = await client.OkAsync(SimulatorClient.EnumerateEnvelope(Cimv2All, "SELECT * FROM Win32_Process", optimize: false));
        var context = first.Element(SimulatorClient.N + "EnumerationContext")!.Value;

        var released = await client.SendAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release", Cimv2All,
            $"<n:Release xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><n:EnumerationContext>{context}</n:EnumerationContext></n:Release>"));
        var pulled = await client.SendAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull", Cimv2All,
            $"<n:Pull xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><n:EnumerationContext>{context}</n:EnumerationContext></n:Pull>"));

        Assert.Equal(200, released.Status);
        Assert.Equal(500, pulled.Status);
    }

    [Fact]
    public async Task An_invalid_query_is_a_WMI_provider_fault_in_the_form_the_request_asked_for()
    {
        var (_, client) = Add("q-bad.corp.example");
        const string wql = "SELECT Name FROM Win32_Process WHERE Nme='x'";

        var (status, coarse) = await client.SendAsync(SimulatorClient.EnumerateEnvelope(Cimv2All, wql));
        var (preciseStatus, precise) = await client.SendAsync(SimulatorClient.EnumerateEnvelope(Cimv2All, wql, extraHeaders: SimulatorClient.PreciseErrorCodes));

        Assert.Equal(500, status);
        var wsmanFault = Assert.Single(coarse!.Descendants(SimulatorClient.F + "WSManFault"));
        Assert.Equal("2150858778", wsmanFault.Attribute("Code")!.Value);
        Assert.Contains("The WMI service returned an 'invalid query' error.", wsmanFault.Value);
        Assert.DoesNotContain("2147749911", coarse.ToString());
        Assert.Equal(500, preciseStatus);
        Assert.Equal("2147749911", WmiError(precise!, "error_Code"));
        Assert.Equal("15", WmiError(precise!, "CIMStatusCode"));
    }

    private static string? WmiError(XDocument reply, string property) =>
        reply.Descendants().SingleOrDefault(e => e.Name.LocalName == "MSFT_WmiError")?.Elements().Single(e => e.Name.LocalName == property).Value;

    [Fact]
    public async Task The_operating_system_reports_local_time_in_the_device_clock()
    {
        var (device, client) = Add("q-clock.corp.example", d =>
        {
            d.ClockSkew = TimeSpan.FromHours(3);
            d.UtcOffset = TimeSpan.FromHours(2);
        });

        var os = await client.OkAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
            SimulatorClient.Wmi + "root/cimv2/Win32_OperatingSystem", string.Empty));
        var local = DateTimeOffset.Parse(os.Elements().Single(e => e.Name.LocalName == "LocalDateTime").Value, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(TimeSpan.FromHours(2), local.Offset);
        Assert.InRange(local - DateTimeOffset.UtcNow, TimeSpan.FromHours(3) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(3) + TimeSpan.FromMinutes(1));
        Assert.Equal("Datetime", os.Elements().Single(e => e.Name.LocalName == "LocalDateTime").Elements().Single().Name.LocalName);

        var utc = await client.OkAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
            SimulatorClient.Wmi + "root/cimv2/Win32_UTCTime", string.Empty));
        var hour = int.Parse(utc.Elements().Single(e => e.Name.LocalName == "Hour").Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(device.CurrentTime.UtcDateTime.Hour, hour);
    }

    [Fact]
    public async Task CCM_Client_gives_the_client_identity()
    {
        var (device, client) = Add("q-id.corp.example");

        var instance = await client.OkAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
            SimulatorClient.Wmi + "root/ccm/CCM_Client", string.Empty));

        Assert.Equal(device.ClientId, instance.Elements().Single(e => e.Name.LocalName == "ClientId").Value);
        Assert.StartsWith("GUID:", device.ClientId);
    }

    [Fact]
    public async Task Task_sequence_execution_requests_are_enumerable_in_SoftMgmtAgent()
    {
        var (_, client) = Add("q-tsreq.corp.example", d => d.TaskSequences = [Fleet.SimulatedTaskSequence.RunningUpgrade()]);

        var response = await client.OkAsync(SimulatorClient.EnumerateEnvelope(SimulatorClient.Wmi + "root/ccm/SoftMgmtAgent/*",
            "SELECT * FROM CCM_TSExecutionRequest WHERE State = 'Running'"));

        var request = Assert.Single(Items(response));
        Assert.Equal("CCM_TSExecutionRequest", request.Name.LocalName);
        Assert.Equal("PS100042", request.Elements().Single(e => e.Name.LocalName == "ContentID").Value);
    }

    [Theory]
    [InlineData("root/ccm/SMS_Client", "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/ccm/SMS_Client/SetClientProvisioningMode", false)]
    [InlineData("root/ccm/CCM_Client", "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", false)]
    [InlineData("root/ccm/SMS_Client", "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/ccm/SMS_Client/SetClientProvisioningMode", true)]
    [InlineData("root/ccm/CCM_Client", "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", true)]
    public async Task Without_a_client_root_ccm_is_an_invalid_namespace_shaped_like_Windows(string resource, string action, bool preciseErrorCodes)
    {
        fixture.Host.Fleet.Add(new SimulatedDevice("q-noclient.corp.example") { ClientInstalled = false });
        var uri = SimulatorClient.Wmi + resource;
        var body = action.EndsWith("/Get", StringComparison.Ordinal) ? string.Empty
            : $"<p:SetClientProvisioningMode_INPUT xmlns:p=\"{uri}\"><p:bEnable>false</p:bEnable></p:SetClientProvisioningMode_INPUT>";

        var (status, reply) = await fixture.Client("q-noclient.corp.example").SendAsync(
            SimulatorClient.Envelope(action, uri, body, extraHeaders: preciseErrorCodes ? SimulatorClient.PreciseErrorCodes : null));

        Assert.Equal(500, status);
        var fault = reply!.Root!.Element(SimulatorClient.S + "Body")!.Element(SimulatorClient.S + "Fault")!;
        Assert.Equal("s:Sender", fault.Element(SimulatorClient.S + "Code")!.Element(SimulatorClient.S + "Value")!.Value);
        var outer = fault.Element(SimulatorClient.S + "Detail")!.Element(SimulatorClient.F + "WSManFault")!;
        Assert.Equal("2150858778", outer.Attribute("Code")!.Value);
        Assert.Contains("The WMI service returned an 'invalid namespace' error.", outer.Value);
        Assert.Empty(reply.Descendants(SimulatorClient.F + "ProviderFault"));
        if (preciseErrorCodes)
        {
            Assert.Equal("2147749902", WmiError(reply, "error_Code"));
            Assert.Equal("3", WmiError(reply, "CIMStatusCode"));
            Assert.Equal("HRESULT 0x8004100e", WmiError(reply, "MessageID"));
        }
        else
        {
            // Without the option Windows names the WMI error only in words.
            Assert.Null(WmiError(reply, "error_Code"));
            Assert.DoesNotContain("2147749902", reply.ToString());
        }
        Assert.Empty(fixture.Host.Fleet.Invocations("q-noclient.corp.example"));
    }

    [Fact]
    public async Task An_unknown_property_is_refused_even_when_the_class_has_no_instances()
    {
        var (_, client) = Add("q-empty.corp.example");

        var (status, reply) = await client.SendAsync(SimulatorClient.EnumerateEnvelope(SimulatorClient.Wmi + "root/ccm/SoftMgmtAgent/*",
            "SELECT * FROM CCM_TSExecutionRequest WHERE Colour = 'blue'"));
        var empty = await client.OkAsync(SimulatorClient.EnumerateEnvelope(SimulatorClient.Wmi + "root/ccm/SoftMgmtAgent/*",
            "SELECT * FROM CCM_TSExecutionRequest WHERE State = 'Running'"));

        Assert.Equal(500, status);
        Assert.Contains("'invalid query'", reply!.ToString());
        Assert.Empty(Items(empty));
    }
}
