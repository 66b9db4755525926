namespace ProvisioningFleet.WsMan.Cim;

/// <summary>
/// Any failure to talk CIM with a device, already sorted into a contract category. <see cref="Code"/>
/// keeps the most specific number known (the inner WMI error where there is one, else the WS-Man
/// fault code or the HTTP status).
/// </summary>
public sealed class CimException(CimErrorCategory category, string message, long? code = null, Exception? inner = null)
    : Exception(message, inner)
{
    public CimErrorCategory Category { get; } = category;

    public long? Code { get; } = code;
}
