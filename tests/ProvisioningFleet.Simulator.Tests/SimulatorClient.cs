using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>
/// Hand-written WS-Management requests for the tests: deliberately plain strings, so that what the
/// simulator is asked is visible in the test and shares no code with the product's client.
/// </summary>
internal sealed class SimulatorClient(HttpClient http, Uri endpoint, string user = "admin", string password = "P@ssw0rd!")
{
    public static readonly XNamespace S = "http://www.w3.org/2003/05/soap-envelope";
    public static readonly XNamespace W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
    public static readonly XNamespace N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
    public static readonly XNamespace F = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault";
    public static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";
    public const string Wmi = "http://schemas.microsoft.com/wbem/wsman/1/wmi/";

    /// <summary>The header Microsoft's CIM client sends to get WMI errors as MSFT_WmiError instances.</summary>
    public const string PreciseErrorCodes =
        "<w:OptionSet><w:Option Name=\"msftwinrm:UsePreciseErrorCodes\" Type=\"xs:boolean\">true</w:Option></w:OptionSet>";

    public static string Envelope(string action, string resourceUri, string body, string? selectors = null, string? extraHeaders = null) => $"""
        <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
          <s:Header>
            <a:To>http://target:5985/wsman</a:To>
            <w:ResourceURI s:mustUnderstand="true">{resourceUri}</w:ResourceURI>
            <a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
            <a:Action s:mustUnderstand="true">{action}</a:Action>
            <w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize>
            <a:MessageID>uuid:{Guid.NewGuid()}</a:MessageID>
            <w:OperationTimeout>PT20S</w:OperationTimeout>
            {selectors}{extraHeaders}
          </s:Header>
          <s:Body>{body}</s:Body>
        </s:Envelope>
        """;

    public static string InvokeEnvelope(string ns, string className, string method, string parameters)
    {
        var uri = Wmi + ns + "/" + className;
        return Envelope(uri + "/" + method, uri, $"<p:{method}_INPUT xmlns:p=\"{uri}\">{parameters}</p:{method}_INPUT>");
    }

    public static string EnumerateEnvelope(string resourceUri, string? wql, bool optimize = true, int maxElements = 32, string? extraHeaders = null)
    {
        var filter = wql is null ? string.Empty : $"<w:Filter Dialect=\"http://schemas.microsoft.com/wbem/wsman/1/WQL\">{System.Security.SecurityElement.Escape(wql)}</w:Filter>";
        var options = optimize ? $"<w:OptimizeEnumeration/><w:MaxElements>{maxElements}</w:MaxElements>" : string.Empty;
        return Envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", resourceUri,
            $"<n:Enumerate xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">{options}{filter}</n:Enumerate>", extraHeaders: extraHeaders);
    }

    public async Task<(int Status, XDocument? Reply)> SendAsync(string envelope)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent(envelope, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/soap+xml;charset=UTF-8");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : XDocument.Parse(text));
    }

    public async Task<XElement> OkAsync(string envelope)
    {
        var (status, reply) = await SendAsync(envelope);
        Assert.True(status == 200, $"Expected 200, got {status}: {reply}");
        return reply!.Root!.Element(S + "Body")!.Elements().Single();
    }

    public async Task<XElement> InvokeAsync(string ns, string className, string method, string parameters = "") =>
        await OkAsync(InvokeEnvelope(ns, className, method, parameters));

    public static string? Out(XElement output, string name) =>
        output.Elements().SingleOrDefault(e => e.Name.LocalName == name) is { } e
            ? (string?)e.Attribute(Xsi + "nil") == "true" ? null : e.Value
            : null;
}
