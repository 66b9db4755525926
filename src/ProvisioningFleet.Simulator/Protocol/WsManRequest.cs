using System.Xml;
using System.Xml.Linq;

namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>
/// A request envelope, parsed and checked the way the Windows WinRM service checks it: SOAP 1.2,
/// the WS-Addressing headers it needs, <c>mustUnderstand</c> honoured, a uuid MessageID.
/// </summary>
internal sealed class WsManRequest
{
    private static readonly XNamespace S = WsManNames.Soap;
    private static readonly XNamespace A = WsManNames.Addressing;
    private static readonly XNamespace W = WsManNames.WsMan;
    private static readonly XNamespace P = WsManNames.MsWsMan;

    private static readonly HashSet<XName> UnderstoodHeaders =
    [
        A + "Action", A + "To", A + "MessageID", A + "ReplyTo", A + "FaultTo",
        W + "ResourceURI", W + "SelectorSet", W + "OptionSet", W + "MaxEnvelopeSize", W + "OperationTimeout", W + "Locale",
        P + "DataLocale", P + "SessionId", P + "OperationID", P + "SequenceId",
    ];

    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
    };

    private WsManRequest(XElement header, XElement? bodyElement)
    {
        Header = header;
        BodyElement = bodyElement;
    }

    public XElement Header { get; }

    /// <summary>The first element inside <c>s:Body</c>; null for an empty body.</summary>
    public XElement? BodyElement { get; }

    public string? Action { get; private init; }
    public string? MessageId { get; private init; }
    public string? ResourceUri { get; private init; }
    public bool HasSelectorSet { get; private init; }
    public IReadOnlyDictionary<string, string> Selectors { get; private init; } = new Dictionary<string, string>();
    public bool IsIdentify { get; private init; }

    /// <summary>The request carries <c>msftwinrm:UsePreciseErrorCodes</c> = true: WMI errors come back as MSFT_WmiError.</summary>
    public bool UsePreciseErrorCodes { get; private init; }

    private static bool AsksForPreciseErrorCodes(XElement header) =>
        header.Element(W + "OptionSet")?.Elements(W + "Option").Any(o =>
            string.Equals((string?)o.Attribute("Name"), PreciseErrorCodesOption, StringComparison.OrdinalIgnoreCase)
            && o.Value.Trim() is "true" or "1") ?? false;

    private const string PreciseErrorCodesOption = "msftwinrm:UsePreciseErrorCodes";

    public static WsManRequest Parse(byte[] message)
    {
        XDocument document;
        try
        {
            using var stream = new MemoryStream(message, writable: false);
            using var reader = XmlReader.Create(stream, ReaderSettings);
            document = XDocument.Load(reader);
        }
        catch (XmlException ex)
        {
            throw new WsManFaultException(true, WsManNames.WsMan, "InvalidBody", WsManFaults.InvalidSoapBody,
                $"The WS-Management service cannot process the request because the XML is invalid: {ex.Message}", httpStatus: 400);
        }

        var root = document.Root!;
        if (root.Name.LocalName == "Envelope" && root.Name.Namespace != S)
        {
            throw new WsManFaultException(false, WsManNames.Soap, "VersionMismatch", 0x8033800D,
                "The WS-Management service does not support the SOAP version specified in the request.");
        }
        if (root.Name != S + "Envelope")
        {
            throw WsManFaults.InvalidBody("The root element is not a SOAP 1.2 Envelope.");
        }
        var header = root.Element(S + "Header") ?? new XElement(S + "Header");
        var body = root.Element(S + "Body") ?? throw WsManFaults.InvalidBody("The envelope has no s:Body.");

        foreach (var element in header.Elements())
        {
            var mustUnderstand = (string?)element.Attribute(S + "mustUnderstand");
            if (mustUnderstand is "true" or "1" && !UnderstoodHeaders.Contains(element.Name))
            {
                throw WsManFaults.MustUnderstand(element.Name.ToString());
            }
        }

        var bodyElement = body.Elements().FirstOrDefault();
        if (bodyElement?.Name == XName.Get("Identify", WsManNames.Identity))
        {
            return new WsManRequest(header, bodyElement) { IsIdentify = true };
        }

        var action = Required(header, A + "Action", "wsa:Action");
        Required(header, A + "To", "wsa:To");
        var messageId = Required(header, A + "MessageID", "wsa:MessageID");
        if (!messageId.StartsWith("uuid:", StringComparison.OrdinalIgnoreCase) || !Guid.TryParse(messageId.AsSpan(5), out _))
        {
            throw WsManFaults.InvalidHeader($"wsa:MessageID '{messageId}' is not a uuid.");
        }
        var replyTo = header.Element(A + "ReplyTo")?.Element(A + "Address")?.Value.Trim()
            ?? throw WsManFaults.HeaderRequired("wsa:ReplyTo/wsa:Address");
        if (replyTo != WsManNames.Anonymous)
        {
            throw WsManFaults.InvalidHeader("wsa:ReplyTo must be the anonymous address.");
        }
        var resourceUri = Required(header, W + "ResourceURI", "wsman:ResourceURI");
        if (resourceUri.StartsWith(WsManNames.WmiResourcePrefix, StringComparison.OrdinalIgnoreCase)
            && header.Element(W + "OptionSet")?.Elements(W + "Option").FirstOrDefault(o => (string?)o.Attribute("MustComply") is "true" or "1") is { } strict)
        {
            // [MS-WSMV] 3.1.4.1.10: Windows refuses any option marked MustComply on a WMI resource.
            throw WsManFaults.InvalidOptions((string?)strict.Attribute("Name") ?? "(unnamed)");
        }

        var selectorSet = header.Element(W + "SelectorSet");
        var selectors = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (selectorSet is not null)
        {
            foreach (var selector in selectorSet.Elements())
            {
                var name = (string?)selector.Attribute("Name");
                if (selector.Name != W + "Selector" || string.IsNullOrEmpty(name) || !selectors.TryAdd(name, selector.Value))
                {
                    throw WsManFaults.InvalidSelectors("A selector is malformed or repeated.", "DuplicateSelectors");
                }
            }
        }

        return new WsManRequest(header, bodyElement)
        {
            Action = action,
            MessageId = messageId,
            ResourceUri = resourceUri,
            HasSelectorSet = selectorSet is not null,
            Selectors = selectors,
            UsePreciseErrorCodes = AsksForPreciseErrorCodes(header),
        };
    }

    private static string Required(XElement header, XName name, string display)
    {
        var value = header.Element(name)?.Value.Trim();
        return string.IsNullOrEmpty(value) ? throw WsManFaults.HeaderRequired(display) : value;
    }
}
