namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>
/// A fault the simulator answers with, carrying what Windows puts in a SOAP 1.2 fault: the code
/// (Sender/Receiver), a qualified subcode, the reason, the <c>WSManFault Code</c>, an optional
/// <c>wsman:FaultDetail</c> URI and, for WMI failures, the provider's own error inside a
/// <c>ProviderFault</c>.
/// </summary>
internal sealed class WsManFaultException(
    bool sender,
    string subcodeNamespace,
    string subcode,
    uint wsManCode,
    string reason,
    string? faultDetail = null,
    uint? wmiCode = null,
    int httpStatus = 500) : Exception(reason)
{
    public bool Sender { get; } = sender;
    public string SubcodeNamespace { get; } = subcodeNamespace;
    public string Subcode { get; } = subcode;
    public uint WsManCode { get; } = wsManCode;
    public string Reason { get; } = reason;
    public string? FaultDetail { get; } = faultDetail;
    public uint? WmiCode { get; } = wmiCode;
    public int HttpStatus { get; } = httpStatus;
}

/// <summary>The faults the simulator raises, with the numbers Windows uses (winerror.h, wbemcli.h).</summary>
internal static class WsManFaults
{
    public const uint ResourceNotFound = 0x80338000;
    public const uint InvalidUri = 0x80338002;
    public const uint InvalidMessageInformationHeader = 0x8033800F;
    public const uint MustUnderstandFault = 0x80338010;
    public const uint MessageInformationHeaderRequired = 0x80338011;
    public const uint ActionNotSupportedCode = 0x80338013;
    /// <summary>The coarse code the WMI plug-in wraps most provider failures in (2150858778).</summary>
    public const uint WmiProviderFailure = 0x8033801A;
    public const uint InvalidEnumerationContextCode = 0x8033801B;
    public const uint InvalidSoapBody = 0x80338027;
    public const uint InvalidSelectorsCode = 0x8033803D;
    public const uint InvalidOptionsCode = 0x80338039;

    public const uint WbemFailed = 0x80041001;
    public const uint WbemAccessDenied = 0x80041003;
    /// <summary>RPC_S_SERVER_UNAVAILABLE as an HRESULT: the provider's process went away mid-call.</summary>
    public const uint RpcServerUnavailable = 0x800706BA;
    public const uint WbemTypeMismatch = 0x80041005;
    public const uint WbemInvalidNamespace = 0x8004100E;
    public const uint WbemInvalidClass = 0x80041010;
    public const uint WbemInvalidQuery = 0x80041017;
    public const uint WbemInvalidMethod = 0x8004102E;
    public const uint WbemInvalidMethodParameters = 0x8004102F;

    public static WsManFaultException HeaderRequired(string header) => new(
        true, WsManNames.Addressing, "MessageInformationHeaderRequired", MessageInformationHeaderRequired,
        $"The WS-Management service cannot process the request. The request does not have all the expected SOAP headers: {header} is missing.");

    public static WsManFaultException InvalidHeader(string what) => new(
        true, WsManNames.Addressing, "InvalidMessageInformationHeader", InvalidMessageInformationHeader,
        $"The WS-Management service cannot process the request. The request contains one or more invalid SOAP headers: {what}");

    public static WsManFaultException MustUnderstand(string header) => new(
        false, WsManNames.Soap, "MustUnderstand", MustUnderstandFault,
        $"The WS-Management service cannot process a SOAP header in the request that is marked as mustUnderstand by the client: {header}");

    public static WsManFaultException ActionNotSupported(string action) => new(
        true, WsManNames.Addressing, "ActionNotSupported", ActionNotSupportedCode,
        $"The WS-Management service does not support the action specified in the request: {action}");

    public static WsManFaultException InvalidBody(string what) => new(
        true, WsManNames.WsMan, "SchemaValidationError", InvalidSoapBody,
        $"The WS-Management service cannot process the request because the request packet does not have a valid SOAP body. {what}");

    public static WsManFaultException InvalidResourceUri(string uri) => new(
        true, WsManNames.WsMan, "InvalidResourceURI", InvalidUri,
        $"The WS-Management service cannot process the request. The resource URI is missing or it has an incorrect format: {uri}");

    public static WsManFaultException InvalidSelectors(string why, string detail) => new(
        true, WsManNames.WsMan, "InvalidSelectors", InvalidSelectorsCode,
        $"The WS-Management service cannot process the request because the selectors for the resource are not valid. {why}",
        faultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/" + detail);

    public static WsManFaultException InvalidEnumerationContext() => new(
        false, WsManNames.Enumeration, "InvalidEnumerationContext", InvalidEnumerationContextCode,
        "The WS-Enumeration context in the enumeration is not valid. Enumeration may have been completed or canceled.");

    public static WsManFaultException InvalidOptions(string option) => new(
        true, WsManNames.WsMan, "InvalidOptions", InvalidOptionsCode,
        $"The WS-Management service cannot process the request because it cannot comply with option {option} for a WMI resource.",
        faultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/NotSupported");

    public static WsManFaultException NotFound(string what) => new(
        true, WsManNames.WsMan, "InvalidSelectors", ResourceNotFound,
        $"The WS-Management service cannot process the request. The service cannot find the resource identified by the resource URI and selectors. {what}",
        faultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors");

    /// <summary>A WMI failure as the WMI plug-in reports it: outer 2150858778, the WMI error inside.</summary>
    public static WsManFaultException Wmi(uint wmiCode, string message, bool sender = true) => new(
        sender, WsManNames.WsMan, wmiCode == WbemInvalidNamespace ? "InvalidResourceURI" : "InternalError",
        WmiProviderFailure, message, wmiCode: wmiCode);
}

/// <summary>Thrown where a device drops the connection instead of answering; the listener aborts it.</summary>
internal sealed class DroppedConnectionException() : Exception("The device dropped the connection without an answer.");
