using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>The simulator refuses what Windows refuses, with faults shaped as Windows shapes them.</summary>
public sealed class StrictnessTests(SimulatorFixture fixture) : IClassFixture<SimulatorFixture>
{
    private const string SmsClient = SimulatorClient.Wmi + "root/ccm/SMS_Client";

    private SimulatorClient Client()
    {
        fixture.Host.Fleet.Add(new SimulatedDevice("strict.corp.example"));
        return fixture.Client("strict.corp.example");
    }

    private static (string Subcode, string Code) Fault(XDocument reply)
    {
        var fault = reply.Root!.Element(SimulatorClient.S + "Body")!.Element(SimulatorClient.S + "Fault")!;
        var subcode = fault.Element(SimulatorClient.S + "Code")!.Element(SimulatorClient.S + "Subcode")!.Element(SimulatorClient.S + "Value")!.Value;
        var code = fault.Element(SimulatorClient.S + "Detail")!.Element(SimulatorClient.F + "WSManFault")!.Attribute("Code")!.Value;
        return (subcode, code);
    }

    [Fact]
    public async Task A_static_method_called_with_a_SelectorSet_is_refused()
    {
        var envelope = SimulatorClient.Envelope(SmsClient + "/SetClientProvisioningMode", SmsClient,
            $"<p:SetClientProvisioningMode_INPUT xmlns:p=\"{SmsClient}\"><p:bEnable>false</p:bEnable></p:SetClientProvisioningMode_INPUT>",
            selectors: "<w:SelectorSet><w:Selector Name=\"Name\">x</w:Selector></w:SelectorSet>");

        var (status, reply) = await Client().SendAsync(envelope);

        Assert.Equal(500, status);
        Assert.Equal(("w:InvalidSelectors", "2150858813"), Fault(reply!));
        Assert.Contains("faultDetail/UnexpectedSelectors", reply!.ToString());
        Assert.DoesNotContain(fixture.Host.Fleet.Invocations("strict.corp.example"), r => r.Method == "SetClientProvisioningMode");
    }

    [Theory]
    [InlineData("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/ccm/CCM_Client")]
    [InlineData("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/ccm")]
    [InlineData("")]
    public async Task The_input_element_must_be_in_the_class_namespace(string inputNamespace)
    {
        var input = inputNamespace.Length == 0
            ? "<SetClientProvisioningMode_INPUT><bEnable>false</bEnable></SetClientProvisioningMode_INPUT>"
            : $"<p:SetClientProvisioningMode_INPUT xmlns:p=\"{inputNamespace}\"><p:bEnable>false</p:bEnable></p:SetClientProvisioningMode_INPUT>";
        var envelope = SimulatorClient.Envelope(SmsClient + "/SetClientProvisioningMode", SmsClient, input);

        var (status, reply) = await Client().SendAsync(envelope);

        Assert.Equal(500, status);
        Assert.Equal("2150858791", Fault(reply!).Code);
    }

    [Theory]
    [InlineData("MessageID")]
    [InlineData("Action")]
    [InlineData("ReplyTo")]
    [InlineData("ResourceURI")]
    [InlineData("To")]
    public async Task A_missing_required_header_is_a_MessageInformationHeaderRequired_fault(string header)
    {
        var envelope = XDocument.Parse(SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "TriggerSchedule", "<p:sScheduleID>x</p:sScheduleID>"));
        envelope.Root!.Element(SimulatorClient.S + "Header")!.Elements().Single(e => e.Name.LocalName == header).Remove();

        var (status, reply) = await Client().SendAsync(envelope.ToString());

        Assert.Equal(500, status);
        Assert.Equal(("a:MessageInformationHeaderRequired", "2150858769"), Fault(reply!));
    }

    [Fact]
    public async Task A_MessageID_that_is_not_a_uuid_is_refused()
    {
        var envelope = SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "TriggerSchedule", "<p:sScheduleID>x</p:sScheduleID>");
        envelope = System.Text.RegularExpressions.Regex.Replace(envelope, "<a:MessageID>[^<]*</a:MessageID>", "<a:MessageID>42</a:MessageID>");

        var (status, reply) = await Client().SendAsync(envelope);

        Assert.Equal(500, status);
        Assert.Equal("a:InvalidMessageInformationHeader", Fault(reply!).Subcode);
    }

    [Fact]
    public async Task An_unknown_mustUnderstand_header_is_a_MustUnderstand_fault()
    {
        var envelope = SimulatorClient.Envelope(SmsClient + "/TriggerSchedule", SmsClient,
            $"<p:TriggerSchedule_INPUT xmlns:p=\"{SmsClient}\"><p:sScheduleID>x</p:sScheduleID></p:TriggerSchedule_INPUT>",
            extraHeaders: "<x:Novel xmlns:x=\"urn:novel\" s:mustUnderstand=\"true\">1</x:Novel>");

        var (status, reply) = await Client().SendAsync(envelope);

        Assert.Equal(500, status);
        var code = reply!.Root!.Element(SimulatorClient.S + "Body")!.Element(SimulatorClient.S + "Fault")!.Element(SimulatorClient.S + "Code")!;
        Assert.Equal("s:MustUnderstand", code.Element(SimulatorClient.S + "Value")!.Value);
        Assert.Null(code.Element(SimulatorClient.S + "Subcode"));
        Assert.Contains("Code=\"2150858768\"", reply.ToString());
        Assert.DoesNotContain(fixture.Host.Fleet.Invocations("strict.corp.example"), r => r.Method == "TriggerSchedule");
    }

    [Fact]
    public async Task An_unknown_method_is_an_invalid_method_fault()
    {
        var (status, reply) = await Client().SendAsync(SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "ResetPolicy", "<p:uFlags>1</p:uFlags>"));

        Assert.Equal(500, status);
        Assert.Contains("The WMI service returned an 'invalid method' error.", reply!.ToString());
    }

    [Fact]
    public async Task An_unknown_action_is_ActionNotSupported()
    {
        var (status, reply) = await Client().SendAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", SmsClient, string.Empty));

        Assert.Equal(500, status);
        Assert.Equal(("a:ActionNotSupported", "2150858771"), Fault(reply!));
    }

    [Fact]
    public async Task SOAP_1_1_is_a_version_mismatch_and_non_XML_is_refused()
    {
        var soap11 = SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "TriggerSchedule", "<p:sScheduleID>x</p:sScheduleID>")
            .Replace("http://www.w3.org/2003/05/soap-envelope", "http://schemas.xmlsoap.org/soap/envelope/", StringComparison.Ordinal);

        var (status11, reply11) = await Client().SendAsync(soap11);
        var (statusGarbage, _) = await Client().SendAsync("<<<not xml");

        Assert.Equal(500, status11);
        Assert.Equal("s:VersionMismatch", reply11!.Descendants(SimulatorClient.S + "Value").First().Value);
        Assert.Equal(400, statusGarbage);
    }

    [Fact]
    public async Task A_message_that_is_not_soap_xml_is_refused_with_415()
    {
        Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Host.EndpointFor("strict.corp.example"))
        {
            Content = new StringContent(SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "TriggerSchedule", "<p:sScheduleID>x</p:sScheduleID>"), Encoding.UTF8, "text/xml"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("admin:P@ssw0rd!"u8.ToArray()));

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Identify_answers_with_the_Microsoft_stack_unauthenticated_when_asked_so()
    {
        Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Host.EndpointFor("strict.corp.example"))
        {
            Content = new StringContent(
                "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>",
                Encoding.UTF8, "application/soap+xml"),
        };
        request.Headers.Add("WSMANIDENTIFY", "unauthenticated");

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_unauthenticated_Identify_header_does_not_open_other_operations()
    {
        Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Host.EndpointFor("strict.corp.example"))
        {
            Content = new StringContent(SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "SetClientProvisioningMode", "<p:bEnable>false</p:bEnable>"),
                Encoding.UTF8, "application/soap+xml"),
        };
        request.Headers.Add("WSMANIDENTIFY", "unauthenticated");

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain(fixture.Host.Fleet.Invocations("strict.corp.example"), r => r.Method == "SetClientProvisioningMode");
    }
}
