using System.Xml;

namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>
/// A request envelope, parsed and checked the way the Windows WinRM service checks it: SOAP 1.2,
/// the WS-Addressing headers it needs, <c>mustUnderstand</c> honoured, a uuid MessageID.
/// </summary>
internal sealed class WsManRequest
{
    private static readonly IReadOnlyDictionary<string, string> NoSelectors = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The first element inside <c>s:Body</c>; null for an empty body.</summary>
    public RequestBodyElement? BodyElement { get; private init; }

    public string? Action { get; private init; }
    public string? MessageId { get; private init; }
    public string? ResourceUri { get; private init; }
    public bool HasSelectorSet { get; private init; }
    public IReadOnlyDictionary<string, string> Selectors { get; private init; } = NoSelectors;
    public bool IsIdentify { get; private init; }

    /// <summary>The request carries <c>msftwinrm:UsePreciseErrorCodes</c> = true: WMI errors come back as MSFT_WmiError.</summary>
    public bool UsePreciseErrorCodes { get; private init; }

    public static WsManRequest Parse(byte[] message)
    {
        EnvelopeContent envelope;
        try
        {
            envelope = EnvelopeReader.Read(message);
        }
        catch (XmlException ex)
        {
            throw new WsManFaultException(true, WsManNames.WsMan, "InvalidBody", WsManFaults.InvalidSoapBody,
                $"The WS-Management service cannot process the request because the XML is invalid: {ex.Message}", httpStatus: 400);
        }

        if (envelope.RootLocalName == "Envelope" && envelope.RootNamespace != WsManNames.Soap)
        {
            throw new WsManFaultException(false, WsManNames.Soap, "VersionMismatch", 0x8033800D,
                "The WS-Management service does not support the SOAP version specified in the request.");
        }
        if (envelope.RootLocalName != "Envelope")
        {
            throw WsManFaults.InvalidBody("The root element is not a SOAP 1.2 Envelope.");
        }
        if (!envelope.HasBody)
        {
            throw WsManFaults.InvalidBody("The envelope has no s:Body.");
        }
        if (envelope.NotUnderstoodHeader is { } notUnderstood)
        {
            throw WsManFaults.MustUnderstand(notUnderstood);
        }

        if (envelope.BodyElement?.Is(WsManNames.Identity, "Identify") == true)
        {
            return new WsManRequest { BodyElement = envelope.BodyElement, IsIdentify = true };
        }

        var action = Required(envelope.Action, "wsa:Action");
        if (!envelope.ToHasText)
        {
            throw WsManFaults.HeaderRequired("wsa:To");
        }
        var messageId = Required(envelope.MessageId, "wsa:MessageID");
        if (!messageId.StartsWith("uuid:", StringComparison.OrdinalIgnoreCase) || !Guid.TryParse(messageId.AsSpan(5), out _))
        {
            throw WsManFaults.InvalidHeader($"wsa:MessageID '{messageId}' is not a uuid.");
        }
        if (!envelope.HasReplyToAddress)
        {
            throw WsManFaults.HeaderRequired("wsa:ReplyTo/wsa:Address");
        }
        if (!envelope.ReplyToIsAnonymous)
        {
            throw WsManFaults.InvalidHeader("wsa:ReplyTo must be the anonymous address.");
        }
        var resourceUri = Required(envelope.ResourceUri, "wsman:ResourceURI");
        if (envelope.HasStrictOption && resourceUri.StartsWith(WsManNames.WmiResourcePrefix, StringComparison.OrdinalIgnoreCase))
        {
            // [MS-WSMV] 3.1.4.1.10: Windows refuses any option marked MustComply on a WMI resource.
            throw WsManFaults.InvalidOptions(envelope.StrictOptionName ?? "(unnamed)");
        }
        if (envelope.HasMalformedSelector)
        {
            throw WsManFaults.InvalidSelectors("A selector is malformed or repeated.", "DuplicateSelectors");
        }

        return new WsManRequest
        {
            BodyElement = envelope.BodyElement,
            Action = action,
            MessageId = messageId,
            ResourceUri = resourceUri,
            HasSelectorSet = envelope.HasSelectorSet,
            Selectors = envelope.Selectors ?? NoSelectors,
            UsePreciseErrorCodes = envelope.UsePreciseErrorCodes,
        };
    }

    private static string Required(string? value, string display) =>
        string.IsNullOrEmpty(value) ? throw WsManFaults.HeaderRequired(display) : value;
}
