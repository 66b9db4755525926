namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>XML namespaces and URIs of WS-Management as Windows speaks it ([MS-WSMV], DSP0226).</summary>
internal static class WsManNames
{
    public const string Soap = "http://www.w3.org/2003/05/soap-envelope";
    public const string Addressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
    public const string WsMan = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
    public const string MsWsMan = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd";
    public const string Enumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
    public const string Transfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
    public const string Identity = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
    public const string Xsi = "http://www.w3.org/2001/XMLSchema-instance";
    public const string Cim = "http://schemas.dmtf.org/wbem/wscim/1/common";
    public const string WsManFault = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault";
    public const string Anonymous = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

    public const string WmiResourcePrefix = "http://schemas.microsoft.com/wbem/wsman/1/wmi/";
    public const string WqlDialect = "http://schemas.microsoft.com/wbem/wsman/1/WQL";

    public const string GetAction = Transfer + "/Get";
    public const string EnumerateAction = Enumeration + "/Enumerate";
    public const string PullAction = Enumeration + "/Pull";
    public const string ReleaseAction = Enumeration + "/Release";
    public const string FaultAction = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault";
    public const string AddressingFaultAction = Addressing + "/fault";
}
