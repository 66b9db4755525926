namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>
/// How Windows' WMI plug-in words a WMI error in the text of a fault, and the DSP0004 CIM status code it
/// puts in an MSFT_WmiError. The text is the only place the WMI error appears when the request did not
/// ask for precise error codes.
/// </summary>
internal static class WmiErrors
{
    public static string Summary(uint wmiCode) => Phrase(wmiCode) is { } phrase
        ? $"The WS-Management service cannot process the request. The WMI service returned {phrase} error. "
        : $"The WS-Management service cannot process the request. The WMI service or the WMI provider returned an unknown error: HRESULT 0x{wmiCode:x8} ";

    public static uint CimStatusCode(uint wmiCode) => wmiCode switch
    {
        WsManFaults.WbemInvalidNamespace => 3,
        WsManFaults.WbemInvalidClass => 5,
        WsManFaults.WbemAccessDenied => 2,
        WsManFaults.WbemInvalidMethodParameters => 4,
        WsManFaults.WbemInvalidQuery => 15,
        WsManFaults.WbemInvalidMethod => 17,
        _ => 1,
    };

    private static string? Phrase(uint wmiCode) => wmiCode switch
    {
        WsManFaults.WbemInvalidNamespace => "an 'invalid namespace'",
        WsManFaults.WbemInvalidClass => "an 'invalid class'",
        WsManFaults.WbemAccessDenied => "an 'access denied'",
        WsManFaults.WbemInvalidQuery => "an 'invalid query'",
        WsManFaults.WbemInvalidMethod => "an 'invalid method'",
        WsManFaults.WbemInvalidMethodParameters => "an 'invalid method parameters'",
        WsManFaults.WbemFailed => "a 'generic failure'",
        _ => null,
    };
}
