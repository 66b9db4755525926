using System.Diagnostics;
using System.Xml.Linq;
using ProvisioningFleet.WsMan.Cim;
using ProvisioningFleet.WsMan.Tests.Transport;

namespace ProvisioningFleet.WsMan.Tests.Protocol;

/// <summary>What the client puts on the wire, as received by a real HTTP server.</summary>
public class WsManRequestTests
{
    private static readonly XNamespace S = "http://www.w3.org/2003/05/soap-envelope";
    private static readonly XNamespace A = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
    private static readonly XNamespace W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
    private static readonly XNamespace N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";
    private const string StdRegProv = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/StdRegProv";

    [Fact]
    public async Task Static_invoke_sends_every_required_header_typed_parameters_and_no_selectors()
    {
        await using var server = await ScriptedServer.ReplyingAsync(Fixture.Bytes("invoke-getstringvalue.xml"));
        await using var client = server.BasicClient(TimeSpan.FromSeconds(42));
        var when = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

        var result = await client.InvokeAsync(StdRegProv, "GetStringValue",
            [
                CimParameter.Of("hDefKey", 2147483650UL),
                CimParameter.Of("sSubKeyName", @"SOFTWARE\Microsoft\CCM\CcmExec"),
                CimParameter.Of("bFlag", false),
                new CimParameter("dWhen", CimValue.From(when)),
                new CimParameter("sNothing", CimValue.Null),
                new CimParameter("aNames", CimValue.Array([CimValue.From("a"), CimValue.From("b<&>")])),
            ],
            selectors: null, CancellationToken.None);

        Assert.Equal("true", result["sValue"].AsString());
        var (headers, body) = Assert.Single(server.Requests);
        Assert.StartsWith("application/soap+xml", headers["Content-Type"]);
        Assert.StartsWith("Basic ", headers["Authorization"]);
        var envelope = XDocument.Parse(System.Text.Encoding.UTF8.GetString(body));
        var header = envelope.Root!.Element(S + "Header")!;
        Assert.Equal(server.Endpoint.AbsoluteUri, header.Element(A + "To")!.Value);
        Assert.Equal(StdRegProv, header.Element(W + "ResourceURI")!.Value);
        Assert.Equal(StdRegProv + "/GetStringValue", header.Element(A + "Action")!.Value);
        Assert.Equal("true", header.Element(A + "Action")!.Attribute(S + "mustUnderstand")!.Value);
        Assert.Equal("http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous", header.Element(A + "ReplyTo")!.Element(A + "Address")!.Value);
        Assert.Matches("^uuid:[0-9A-F-]{36}$", header.Element(A + "MessageID")!.Value);
        Assert.Equal("512000", header.Element(W + "MaxEnvelopeSize")!.Value);
        Assert.Equal("PT42.000S", header.Element(W + "OperationTimeout")!.Value);
        Assert.Equal("en-US", header.Element(W + "Locale")!.Attribute(XNamespace.Xml + "lang")!.Value);
        Assert.Null(header.Element(W + "SelectorSet"));
        AssertAsksForPreciseErrorCodes(header);

        XNamespace p = StdRegProv;
        var input = envelope.Root.Element(S + "Body")!.Element(p + "GetStringValue_INPUT")!;
        Assert.Equal("2147483650", input.Element(p + "hDefKey")!.Value);
        Assert.Equal(@"SOFTWARE\Microsoft\CCM\CcmExec", input.Element(p + "sSubKeyName")!.Value);
        Assert.Equal("false", input.Element(p + "bFlag")!.Value);
        Assert.Equal("2026-11-25T10:00:00Z", input.Element(p + "dWhen")!.Element((XNamespace)"http://schemas.dmtf.org/wbem/wscim/1/common" + "Datetime")!.Value);
        Assert.Equal("true", input.Element(p + "sNothing")!.Attribute(Xsi + "nil")!.Value);
        Assert.Equal(["a", "b<&>"], input.Elements(p + "aNames").Select(e => e.Value));
    }

    [Fact]
    public async Task Instance_invoke_and_get_address_the_instance_with_a_selector_set()
    {
        await using var server = await ScriptedServer.ReplyingAsync(Fixture.Bytes("invoke-getstringvalue.xml"));
        await using var client = server.BasicClient();
        const string process = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process";

        await client.InvokeAsync(process, "GetStringValue", [], new Dictionary<string, string> { ["Handle"] = "4312" }, CancellationToken.None);

        var envelope = XDocument.Parse(System.Text.Encoding.UTF8.GetString(Assert.Single(server.Requests).Body));
        var selector = Assert.Single(envelope.Root!.Element(S + "Header")!.Element(W + "SelectorSet")!.Elements(W + "Selector"));
        Assert.Equal("Handle", selector.Attribute("Name")!.Value);
        Assert.Equal("4312", selector.Value);
        Assert.Equal(process + "/GetStringValue", envelope.Root.Element(S + "Header")!.Element(A + "Action")!.Value);
    }

    [Fact]
    public async Task No_trace_context_goes_to_the_device_even_inside_a_traced_probe()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource(nameof(WsManRequestTests));
        await using var server = await ScriptedServer.ReplyingAsync(Fixture.Bytes("invoke-getstringvalue.xml"));
        await using var client = server.BasicClient();

        using (var probe = source.StartActivity("probe"))
        {
            Assert.NotNull(probe);
            await client.InvokeAsync(StdRegProv, "GetStringValue", [CimParameter.Of("sValueName", "ProvisioningMode")], null, CancellationToken.None);
        }

        var (headers, _) = Assert.Single(server.Requests);
        Assert.DoesNotContain(headers.Keys, name => name is "traceparent" or "tracestate" or "Request-Id" or "Correlation-Context" or "baggage");
    }

    [Fact]
    public async Task Query_enumerates_with_the_WQL_filter_then_pulls_until_the_end()
    {
        var replies = new Queue<byte[]>([Fixture.Bytes("enumerate-win32_process.xml"), Fixture.Bytes("pull-win32_process.xml")]);
        await using var server = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/soap+xml;charset=UTF-8";
            await context.Response.Body.WriteAsync(replies.Dequeue());
        });
        await using var client = server.BasicClient();
        const string all = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*";

        var items = await client.QueryAsync(all, "SELECT * FROM Win32_Process", CancellationToken.None);

        Assert.Equal(["TSManager.exe", "System Idle Process", "SetupHost.exe"], items.Select(i => i["Name"].AsString()));
        var requests = server.Requests.Select(r => XDocument.Parse(System.Text.Encoding.UTF8.GetString(r.Body)).Root!).ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", requests[0].Element(S + "Header")!.Element(A + "Action")!.Value);
        Assert.Equal(all, requests[0].Element(S + "Header")!.Element(W + "ResourceURI")!.Value);
        var enumerate = requests[0].Element(S + "Body")!.Element(N + "Enumerate")!;
        Assert.NotNull(enumerate.Element(W + "OptimizeEnumeration"));
        Assert.Equal("http://schemas.microsoft.com/wbem/wsman/1/WQL", enumerate.Element(W + "Filter")!.Attribute("Dialect")!.Value);
        Assert.Equal("SELECT * FROM Win32_Process", enumerate.Element(W + "Filter")!.Value);
        Assert.Equal("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull", requests[1].Element(S + "Header")!.Element(A + "Action")!.Value);
        Assert.Equal("uuid:2C6D8E11-7A9B-4F4B-9E6C-0E1F2A3B4C5D", requests[1].Element(S + "Body")!.Element(N + "Pull")!.Element(N + "EnumerationContext")!.Value);
    }

    [Fact]
    public async Task A_parameter_XML_cannot_carry_is_refused_before_sending()
    {
        await using var server = await ScriptedServer.ReplyingAsync(Fixture.Bytes("invoke-getstringvalue.xml"));
        await using var client = server.BasicClient();

        var error = await Assert.ThrowsAsync<CimException>(() =>
            client.InvokeAsync(StdRegProv, "GetStringValue", [CimParameter.Of("sValueName", "bad\0name")], null, CancellationToken.None));

        Assert.Equal(CimErrorCategory.Configuration, error.Category);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Release_sends_the_context_and_accepts_an_empty_body()
    {
        await using var server = await ScriptedServer.ReplyingAsync(WsManReplyTests.Envelope(""));
        await using var client = server.BasicClient();

        await client.ReleaseAsync("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*", "uuid:ABC", CancellationToken.None);

        var envelope = XDocument.Parse(System.Text.Encoding.UTF8.GetString(Assert.Single(server.Requests).Body));
        Assert.Equal("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release", envelope.Root!.Element(S + "Header")!.Element(A + "Action")!.Value);
        Assert.Equal("uuid:ABC", envelope.Root.Element(S + "Body")!.Element(N + "Release")!.Element(N + "EnumerationContext")!.Value);
    }

    [Fact]
    public async Task Every_enumeration_request_asks_for_precise_error_codes_and_no_more_items_than_the_caller_can_use()
    {
        await using var server = await ScriptedServer.ReplyingAsync(System.Text.Encoding.UTF8.GetBytes("""
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>
            <n:PullResponse xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><n:EnumerationContext>uuid:more</n:EnumerationContext>
            <n:Items><p:X xmlns:p="urn:x"><p:a>1</p:a></p:X></n:Items></n:PullResponse></s:Body></s:Envelope>
            """));
        await using var client = server.BasicClient();

        var items = await client.QueryAsync("urn:x/*", "SELECT * FROM X", CancellationToken.None, maxItems: 3);

        Assert.Equal(3, items.Count);
        var envelopes = server.Requests.Select(r => XDocument.Parse(System.Text.Encoding.UTF8.GetString(r.Body)).Root!).ToList();
        Assert.Equal(4, envelopes.Count);
        Assert.All(envelopes, e => AssertAsksForPreciseErrorCodes(e.Element(S + "Header")!));
        var bodies = envelopes.Select(e => e.Element(S + "Body")!.Elements().Single()).ToList();
        Assert.Equal(["Enumerate", "Pull", "Pull", "Release"], bodies.Select(b => b.Name.LocalName));
        Assert.Equal("4", bodies[0].Element(W + "MaxElements")!.Value);
        Assert.Equal("3", bodies[1].Element(N + "MaxElements")!.Value);
        Assert.Equal("2", bodies[2].Element(N + "MaxElements")!.Value);
    }

    private static void AssertAsksForPreciseErrorCodes(XElement header)
    {
        var option = Assert.Single(header.Element(W + "OptionSet")!.Elements(W + "Option"));
        Assert.Equal("msftwinrm:UsePreciseErrorCodes", option.Attribute("Name")!.Value);
        Assert.Equal("true", option.Value);
        // Windows may refuse any option marked MustComply on a WMI resource ([MS-WSMV] 3.1.4.1.10).
        Assert.Null(option.Attribute("MustComply"));
    }
}
