namespace ProvisioningFleet.WsMan.Protocol;

/// <summary>Namespace URIs and actions of DSP0226 and [MS-WSMV].</summary>
internal static class WsManNames
{
    public const string Soap = "http://www.w3.org/2003/05/soap-envelope";
    public const string Addressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
    public const string WsMan = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
    public const string MsWsMan = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd";
    public const string Enumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
    public const string Identity = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
    public const string WsManFault = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault";
    public const string Cim = "http://schemas.dmtf.org/wbem/wscim/1/common";
    public const string Xsi = "http://www.w3.org/2001/XMLSchema-instance";
    public const string Xml = "http://www.w3.org/XML/1998/namespace";

    public const string AnonymousAddress = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
    /// <summary>The [MS-WSMV] option that makes the WMI plug-in return the WMI error as an MSFT_WmiError instance.</summary>
    public const string UsePreciseErrorCodesOption = "msftwinrm:UsePreciseErrorCodes";

    public const string WqlDialect = "http://schemas.microsoft.com/wbem/wsman/1/WQL";

    public const string ActionGet = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
    public const string ActionEnumerate = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate";
    public const string ActionPull = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull";
    public const string ActionRelease = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release";

    /// <summary>The ResourceURI of WMI classes: this prefix, the namespace with '/', then the class.</summary>
    public const string WmiResourcePrefix = "http://schemas.microsoft.com/wbem/wsman/1/wmi/";
}
