using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using ProvisioningFleet.WsMan.Cim;
using ProvisioningFleet.WsMan.Protocol;

namespace ProvisioningFleet.WsMan.Tests.Protocol;

/// <summary>Envelopes from prepared templates are the XmlWriter's envelope, byte for byte, with this request's endpoint and id.</summary>
public partial class EnvelopeTemplateTests
{
    private static readonly XNamespace A = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
    private const string StdRegProv = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/default/StdRegProv";

    private static readonly CimParameter[] ModeRead =
    [
        CimParameter.Of("hDefKey", 2147483650U),
        CimParameter.Of("sSubKeyName", @"SOFTWARE\Microsoft\CCM\CcmExec"),
        CimParameter.Of("sValueName", "ProvisioningMode"),
    ];

    private static WsManClientOptions Options(string endpoint) => new() { Endpoint = new Uri(endpoint), OperationTimeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public void A_templated_invoke_differs_from_the_written_one_only_in_its_message_id()
    {
        var options = Options("http://pc-0001.corp.example:5985/wsman");
        var first = Encoding.UTF8.GetString(WsManRequest.Invoke(options, StdRegProv, "GetStringValue", ModeRead, null));
        // A second device of the same shape takes the prepared template.
        var other = Options("http://pc-0002.corp.example:5985/wsman");
        var templated = Encoding.UTF8.GetString(WsManRequest.Invoke(other, StdRegProv, "GetStringValue", ModeRead, null));
        // With a selector set the envelope is always written in full: the reference.
        var written = Encoding.UTF8.GetString(WsManRequest.Invoke(other, StdRegProv, "GetStringValue", ModeRead, new Dictionary<string, string>()));

        Assert.Equal(WithoutMessageId(written), WithoutMessageId(templated));
        Assert.Equal("http://pc-0002.corp.example:5985/wsman", XDocument.Parse(templated).Descendants(A + "To").Single().Value);
        Assert.Equal("http://pc-0001.corp.example:5985/wsman", XDocument.Parse(first).Descendants(A + "To").Single().Value);
        Assert.Matches("^uuid:[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$", MessageId(templated));
        Assert.NotEqual(MessageId(first), MessageId(templated));
    }

    [Fact]
    public void Every_templated_request_gets_a_new_message_id()
    {
        var options = Options("http://pc-0003.corp.example:5985/wsman");
        var ids = Enumerable.Range(0, 50)
            .Select(_ => MessageId(Encoding.UTF8.GetString(WsManRequest.Enumerate(options, "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*",
                "SELECT Name FROM Win32_Process WHERE Name = 'TSManager.exe'", optimize: true, maxElements: 33))))
            .ToHashSet();

        Assert.Equal(50, ids.Count);
    }

    [Fact]
    public void Parameters_of_another_value_are_another_template()
    {
        var options = Options("http://pc-0004.corp.example:5985/wsman");
        var enable = Encoding.UTF8.GetString(WsManRequest.Invoke(options, StdRegProv, "SetClientProvisioningMode", [CimParameter.Of("bEnable", true)], null));
        var disable = Encoding.UTF8.GetString(WsManRequest.Invoke(options, StdRegProv, "SetClientProvisioningMode", [CimParameter.Of("bEnable", false)], null));

        Assert.Contains(">true</p:bEnable>", enable, StringComparison.Ordinal);
        Assert.Contains(">false</p:bEnable>", disable, StringComparison.Ordinal);
    }

    [Fact]
    public void An_endpoint_that_XML_escapes_is_written_in_full_and_escaped()
    {
        var options = Options("http://pc-0005.corp.example:5985/wsman?a=1&b=2");
        var envelope = Encoding.UTF8.GetString(WsManRequest.Invoke(options, StdRegProv, "GetStringValue", ModeRead, null));

        Assert.Contains("?a=1&amp;b=2</a:To>", envelope, StringComparison.Ordinal);
        Assert.Equal("http://pc-0005.corp.example:5985/wsman?a=1&b=2", XDocument.Parse(envelope).Descendants(A + "To").Single().Value);
    }

    private static string MessageId(string envelope) => XDocument.Parse(envelope).Descendants(A + "MessageID").Single().Value;

    private static string WithoutMessageId(string envelope) => MessageIdElement().Replace(envelope, "<a:MessageID/>");

    [GeneratedRegex("<a:MessageID>[^<]*</a:MessageID>")]
    private static partial Regex MessageIdElement();
}
