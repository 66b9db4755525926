using System.Xml.Linq;
using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>
/// Requests written the ways other clients write them (other prefixes, default namespaces, headers in
/// another order, values split by comments or CDATA, elements the simulator does not know) and XML that
/// is not well-formed, whose fault comes before any SOAP-level one.
/// </summary>
public sealed class RequestParsingTests(SimulatorFixture fixture) : IClassFixture<SimulatorFixture>
{
    private const string Host = "parse.corp.example";
    private const string Soap = "http://www.w3.org/2003/05/soap-envelope";
    private const string Addressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
    private const string WsMan = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
    private const string Anonymous = Addressing + "/role/anonymous";
    private const string StdRegProv = SimulatorClient.Wmi + "root/default/StdRegProv";
    private const string Process = SimulatorClient.Wmi + "root/cimv2/Win32_Process";
    private const string GetAction = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
    private const string MessageId = "uuid:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0";
    private const string InvalidSoapBody = "2150858791";

    private SimulatorClient Client()
    {
        if (fixture.Host.Fleet.Find(Host) is null)
        {
            fixture.Host.Fleet.Add(new SimulatedDevice(Host) { ProvisioningMode = "true", RunningProcesses = ["notepad.exe", "explorer.exe"] });
        }
        return fixture.Client(Host);
    }

    private static (string? Subcode, string Code, string Reason) Fault(XDocument reply)
    {
        var fault = reply.Root!.Element(SimulatorClient.S + "Body")!.Element(SimulatorClient.S + "Fault")!;
        var subcode = fault.Element(SimulatorClient.S + "Code")!.Element(SimulatorClient.S + "Subcode")?.Element(SimulatorClient.S + "Value")!.Value;
        var code = fault.Element(SimulatorClient.S + "Detail")!.Element(SimulatorClient.F + "WSManFault")!.Attribute("Code")!.Value;
        var reason = fault.Element(SimulatorClient.S + "Reason")!.Element(SimulatorClient.S + "Text")!.Value;
        return (subcode, code, reason);
    }

    /// <summary>The provisioning-mode probe, each variant naming the same elements differently.</summary>
    private static string ProbeWritten(string how) => how switch
    {
        "other prefixes" => $"""
            <soap:Envelope xmlns:soap="{Soap}" xmlns:wsa="{Addressing}" xmlns:wsman="{WsMan}"><soap:Header>
            <wsa:To>http://target:5985/wsman</wsa:To><wsman:ResourceURI soap:mustUnderstand="true">{StdRegProv}</wsman:ResourceURI>
            <wsa:ReplyTo><wsa:Address soap:mustUnderstand="true">{Anonymous}</wsa:Address></wsa:ReplyTo>
            <wsa:Action soap:mustUnderstand="true">{StdRegProv}/GetStringValue</wsa:Action><wsa:MessageID>{MessageId}</wsa:MessageID>
            </soap:Header><soap:Body><reg:GetStringValue_INPUT xmlns:reg="{StdRegProv}"><reg:hDefKey>2147483650</reg:hDefKey>
            <reg:sSubKeyName>SOFTWARE\Microsoft\CCM\CcmExec</reg:sSubKeyName><reg:sValueName>ProvisioningMode</reg:sValueName>
            </reg:GetStringValue_INPUT></soap:Body></soap:Envelope>
            """,
        "our prefixes on other namespaces" => $"""
            <a:Envelope xmlns:a="{Soap}" xmlns:s="{Addressing}" xmlns:p="{WsMan}"><a:Header>
            <s:To>http://target:5985/wsman</s:To><p:ResourceURI a:mustUnderstand="true">{StdRegProv}</p:ResourceURI>
            <s:ReplyTo><s:Address a:mustUnderstand="true">{Anonymous}</s:Address></s:ReplyTo>
            <s:Action a:mustUnderstand="true">{StdRegProv}/GetStringValue</s:Action><s:MessageID>{MessageId}</s:MessageID>
            </a:Header><a:Body><w:GetStringValue_INPUT xmlns:w="{StdRegProv}"><w:hDefKey>2147483650</w:hDefKey>
            <w:sSubKeyName>SOFTWARE\Microsoft\CCM\CcmExec</w:sSubKeyName><w:sValueName>ProvisioningMode</w:sValueName>
            </w:GetStringValue_INPUT></a:Body></a:Envelope>
            """,
        "default namespaces" => $"""
            <Envelope xmlns="{Soap}"><Header>
            <To xmlns="{Addressing}">http://target:5985/wsman</To><ResourceURI xmlns="{WsMan}">{StdRegProv}</ResourceURI>
            <ReplyTo xmlns="{Addressing}"><Address>{Anonymous}</Address></ReplyTo>
            <Action xmlns="{Addressing}">{StdRegProv}/GetStringValue</Action><MessageID xmlns="{Addressing}">{MessageId}</MessageID>
            </Header><Body><GetStringValue_INPUT xmlns="{StdRegProv}"><hDefKey>2147483650</hDefKey>
            <sSubKeyName>SOFTWARE\Microsoft\CCM\CcmExec</sSubKeyName><sValueName>ProvisioningMode</sValueName>
            </GetStringValue_INPUT></Body></Envelope>
            """,
        "body first, headers reversed" => $"""
            <?xml version="1.0" encoding="utf-8"?><!-- a comment before the envelope -->
            <s:Envelope xmlns:s="{Soap}" xmlns:a="{Addressing}" xmlns:w="{WsMan}"><s:Body><p:GetStringValue_INPUT xmlns:p="{StdRegProv}">
            <p:sValueName>ProvisioningMode</p:sValueName><p:sSubKeyName>SOFTWARE\Microsoft\CCM\CcmExec</p:sSubKeyName><p:hDefKey>2147483650</p:hDefKey>
            </p:GetStringValue_INPUT></s:Body><s:Header><w:OperationTimeout>PT20S</w:OperationTimeout><a:MessageID>{MessageId}</a:MessageID>
            <a:Action>{StdRegProv}/GetStringValue</a:Action><a:ReplyTo><a:Address>{Anonymous}</a:Address></a:ReplyTo>
            <w:ResourceURI>{StdRegProv}</w:ResourceURI><a:To>http://target:5985/wsman</a:To></s:Header></s:Envelope>
            """,
        "values split and padded" => $"""
            <s:Envelope xmlns:s="{Soap}" xmlns:a="{Addressing}" xmlns:w="{WsMan}"><s:Header>
            <a:To> http://target:5985/wsman </a:To><w:ResourceURI><![CDATA[{StdRegProv}]]></w:ResourceURI>
            <a:ReplyTo><a:Address>
              {Anonymous}
            </a:Address></a:ReplyTo>
            <a:Action>{StdRegProv}<!-- split -->/GetStringValue</a:Action><a:MessageID>  {MessageId}  </a:MessageID>
            </s:Header><s:Body><p:GetStringValue_INPUT xmlns:p="{StdRegProv}"><p:hDefKey>21474836<![CDATA[50]]></p:hDefKey>
            <p:sSubKeyName>SOFTWARE&#92;Microsoft\CCM\CcmExec</p:sSubKeyName><p:sValueName>Provisioning<!-- split -->Mode</p:sValueName>
            </p:GetStringValue_INPUT></s:Body></s:Envelope>
            """,
        _ => throw new ArgumentOutOfRangeException(nameof(how)),
    };

    [Theory]
    [InlineData("other prefixes")]
    [InlineData("our prefixes on other namespaces")]
    [InlineData("default namespaces")]
    [InlineData("body first, headers reversed")]
    [InlineData("values split and padded")]
    public async Task Elements_are_matched_by_namespace_and_values_read_as_their_text(string how)
    {
        var (status, reply) = await Client().SendAsync(ProbeWritten(how));

        Assert.True(status == 200, $"Expected 200, got {status}: {reply}");
        var output = reply!.Root!.Element(SimulatorClient.S + "Body")!.Elements().Single();
        Assert.Equal(XName.Get("GetStringValue_OUTPUT", StdRegProv), output.Name);
        Assert.Equal("true", SimulatorClient.Out(output, "sValue"));
        Assert.Equal("0", SimulatorClient.Out(output, "ReturnValue"));
        Assert.Contains($"<a:RelatesTo>{MessageId}</a:RelatesTo>", reply.ToString(SaveOptions.DisableFormatting));
    }

    [Fact]
    public async Task Elements_the_simulator_does_not_know_are_skipped()
    {
        var envelope = SimulatorClient.Envelope(StdRegProv + "/GetStringValue", StdRegProv,
            $"<p:GetStringValue_INPUT xmlns:p=\"{StdRegProv}\"><p:hDefKey>2147483650</p:hDefKey><p:sSubKeyName>SOFTWARE\\Microsoft\\CCM\\CcmExec</p:sSubKeyName>"
            + "<p:sValueName>ProvisioningMode</p:sValueName></p:GetStringValue_INPUT><x:Trailer xmlns:x=\"urn:unknown\"><x:Deep>1</x:Deep></x:Trailer>",
            extraHeaders: "<x:Novel xmlns:x=\"urn:novel\" s:mustUnderstand=\"false\"><x:Deep a=\"1\"><x:Deeper/></x:Deep>text</x:Novel>"
                + "<w:OptionSet><w:Unknown Name=\"x\">1</w:Unknown><w:Option Name=\"other\">1</w:Option></w:OptionSet>");

        var output = await Client().OkAsync(envelope);

        Assert.Equal("true", SimulatorClient.Out(output, "sValue"));
    }

    [Fact]
    public async Task Selector_names_are_case_insensitive_and_their_values_are_not_trimmed()
    {
        var exact = await Client().OkAsync(SimulatorClient.Envelope(GetAction, Process, string.Empty,
            selectors: "<w:SelectorSet><w:Selector Name=\"handle\">4</w:Selector></w:SelectorSet>"));
        var (paddedStatus, padded) = await Client().SendAsync(SimulatorClient.Envelope(GetAction, Process, string.Empty,
            selectors: "<w:SelectorSet><w:Selector Name=\"Handle\"> 4 </w:Selector></w:SelectorSet>"));

        Assert.Equal("4", exact.Elements().Single(e => e.Name.LocalName == "Handle").Value);
        Assert.Equal(500, paddedStatus);
        Assert.Contains("No process with handle  4 .", Fault(padded!).Reason);
    }

    [Fact]
    public async Task Every_selector_is_read_whatever_their_order_or_place_among_the_headers()
    {
        var envelope = SimulatorClient.Envelope(GetAction, Process, string.Empty)
            .Replace("<s:Header>", "<s:Header><w:SelectorSet><w:Selector Name=\"Zeta\">1</w:Selector><w:Selector Name=\"Handle\">4</w:Selector></w:SelectorSet>",
                StringComparison.Ordinal);

        var (status, reply) = await Client().SendAsync(envelope);

        Assert.Equal(500, status);
        Assert.Equal(("w:InvalidSelectors", "2150858813", "The WS-Management service cannot process the request because the selectors for the resource are not valid. Win32_Process is keyed by Handle."), Fault(reply!));
        Assert.Contains("faultDetail/UnexpectedSelectors", reply!.ToString());
    }

    [Theory]
    [InlineData("<w:Selector Name=\"Handle\">4</w:Selector><w:Selector Name=\"HANDLE\">4</w:Selector>")]
    [InlineData("<w:Selector>4</w:Selector>")]
    [InlineData("<w:Selector Name=\"\">4</w:Selector>")]
    [InlineData("<x:Selector xmlns:x=\"urn:other\" Name=\"Handle\">4</x:Selector>")]
    public async Task A_repeated_unnamed_or_foreign_selector_is_refused(string selectors)
    {
        var (status, reply) = await Client().SendAsync(SimulatorClient.Envelope(GetAction, Process, string.Empty,
            selectors: $"<w:SelectorSet>{selectors}</w:SelectorSet>"));

        Assert.Equal(500, status);
        Assert.Equal(("w:InvalidSelectors", "2150858813"), (Fault(reply!).Subcode, Fault(reply!).Code));
        Assert.Contains("faultDetail/DuplicateSelectors", reply!.ToString());
    }

    [Fact]
    public async Task A_WQL_filter_in_the_enumeration_namespace_and_in_CDATA_is_read()
    {
        var envelope = SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", SimulatorClient.Wmi + "root/cimv2/*",
            "<n:Enumerate xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><w:OptimizeEnumeration/><w:MaxElements>8</w:MaxElements>"
            + "<n:Filter Dialect=\"http://schemas.microsoft.com/wbem/wsman/1/WQL\"><![CDATA[SELECT Name FROM Win32_Process WHERE Name = 'notepad.exe']]></n:Filter>"
            + "</n:Enumerate>");

        var response = await Client().OkAsync(envelope);

        var items = response.Element(SimulatorClient.W + "Items")!.Elements().ToList();
        Assert.Equal(["notepad.exe"], items.Select(i => i.Value));
        Assert.NotNull(response.Element(SimulatorClient.W + "EndOfSequence"));
    }

    [Fact]
    public async Task A_Pull_context_is_trimmed_and_MaxElements_read_after_it()
    {
        var client = Client();
        var first = await client.OkAsync(SimulatorClient.EnumerateEnvelope(SimulatorClient.Wmi + "root/cimv2/*", "SELECT Name FROM Win32_Process", optimize: false));
        var context = first.Element(SimulatorClient.N + "EnumerationContext")!.Value;

        var pulled = await client.OkAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull", SimulatorClient.Wmi + "root/cimv2/*",
            $"<n:Pull xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><n:EnumerationContext>\n  {context}  </n:EnumerationContext><n:MaxElements>1</n:MaxElements></n:Pull>"));

        Assert.Single(pulled.Element(SimulatorClient.N + "Items")!.Elements());
        Assert.Equal(context, pulled.Element(SimulatorClient.N + "EnumerationContext")!.Value);
    }

    [Theory]
    [InlineData("<q:Other xmlns:q=\"urn:other\">1</q:Other>", InvalidSoapBody, "Parameter {urn:other}Other is not in the class namespace")]
    [InlineData("<Other xmlns=\"\">1</Other>", InvalidSoapBody, "Parameter Other is not in the class namespace")]
    [InlineData("<p:sValueName>Again</p:sValueName>", "2150858778", "Parameter sValueName is given twice.")]
    public async Task A_parameter_outside_the_class_namespace_or_given_twice_is_refused_with_the_precise_reason_when_asked(string extra, string code, string message)
    {
        var (status, reply) = await Client().SendAsync(SimulatorClient.Envelope(StdRegProv + "/GetStringValue", StdRegProv,
            $"<p:GetStringValue_INPUT xmlns:p=\"{StdRegProv}\"><p:hDefKey>2147483650</p:hDefKey><p:sValueName>ProvisioningMode</p:sValueName>{extra}</p:GetStringValue_INPUT>",
            extraHeaders: SimulatorClient.PreciseErrorCodes));

        Assert.Equal(500, status);
        Assert.Equal(code, Fault(reply!).Code);
        Assert.Contains(message, reply!.ToString());
    }

    [Fact]
    public async Task A_nil_parameter_is_no_value()
    {
        var output = await Client().InvokeAsync("root/default", "StdRegProv", "GetStringValue",
            "<p:hDefKey>2147483650</p:hDefKey><p:sSubKeyName>SOFTWARE\\Microsoft\\CCM\\CcmExec</p:sSubKeyName>"
            + "<p:sValueName xsi:nil=\"true\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">ProvisioningMode</p:sValueName>");

        Assert.Equal("1", SimulatorClient.Out(output, "ReturnValue"));
    }

    [Theory]
    [InlineData("<!DOCTYPE s:Envelope [<!ENTITY e \"x\">]>{0}", "DTD is prohibited")]
    [InlineData("{0}<second/>", "multiple root elements")]
    [InlineData("{0}</s:Envelope>", "Unexpected end tag")]
    public async Task XML_that_is_not_well_formed_is_refused_with_400_before_any_SOAP_check(string template, string why)
    {
        // A SOAP 1.1 envelope: were it well-formed, the answer would be a VersionMismatch.
        var soap11 = SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "TriggerSchedule", "<p:sScheduleID>x</p:sScheduleID>")
            .Replace(Soap, "http://schemas.xmlsoap.org/soap/envelope/", StringComparison.Ordinal);

        var (status, reply) = await Client().SendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, soap11));

        Assert.Equal(400, status);
        var (subcode, code, reason) = Fault(reply!);
        Assert.Equal(("w:InvalidBody", InvalidSoapBody), (subcode, code));
        Assert.StartsWith("The WS-Management service cannot process the request because the XML is invalid: ", reason);
        Assert.Contains(why, reason);
    }

    [Fact]
    public async Task An_entity_the_document_does_not_declare_is_refused_with_400()
    {
        var (status, reply) = await Client().SendAsync(SimulatorClient.InvokeEnvelope("root/default", "StdRegProv", "GetStringValue", "<p:sValueName>&secret;</p:sValueName>"));

        Assert.Equal(400, status);
        Assert.Contains("Reference to undeclared entity 'secret'", Fault(reply!).Reason);
    }

    [Fact]
    public async Task A_missing_body_is_reported_before_an_unknown_mustUnderstand_header_and_that_before_a_missing_Action()
    {
        var mustUnderstand = "<x:Novel xmlns:x=\"urn:novel\" s:mustUnderstand=\"1\"/>";
        var withoutBody = SimulatorClient.Envelope(StdRegProv + "/GetStringValue", StdRegProv, string.Empty, extraHeaders: mustUnderstand)
            .Replace("<s:Body></s:Body>", string.Empty, StringComparison.Ordinal);
        var withoutAction = System.Text.RegularExpressions.Regex.Replace(
            SimulatorClient.Envelope(StdRegProv + "/GetStringValue", StdRegProv, string.Empty, extraHeaders: mustUnderstand), "<a:Action[^>]*>[^<]*</a:Action>", string.Empty);

        var (_, noBody) = await Client().SendAsync(withoutBody);
        var (_, noAction) = await Client().SendAsync(withoutAction);

        Assert.Equal(("w:SchemaValidationError", InvalidSoapBody), (Fault(noBody!).Subcode, Fault(noBody!).Code));
        Assert.Contains("The envelope has no s:Body.", Fault(noBody!).Reason);
        Assert.Equal((null, "2150858768"), (Fault(noAction!).Subcode, Fault(noAction!).Code));
        Assert.EndsWith("{urn:novel}Novel", Fault(noAction!).Reason);
    }
}
