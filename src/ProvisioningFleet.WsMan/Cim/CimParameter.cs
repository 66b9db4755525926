namespace ProvisioningFleet.WsMan.Cim;

/// <summary>One in-parameter of a method call, in the order it is sent.</summary>
public sealed record CimParameter(string Name, CimValue Value)
{
    public static CimParameter Of(string name, string value) => new(name, CimValue.From(value));

    public static CimParameter Of(string name, bool value) => new(name, CimValue.From(value));

    public static CimParameter Of(string name, long value) => new(name, CimValue.From(value));

    /// <summary>A uint32 parameter (e.g. StdRegProv's hDefKey): typed unsigned, so that stacks needing typed values send a uint32.</summary>
    public static CimParameter Of(string name, uint value) => new(name, CimValue.From((ulong)value));

    public static CimParameter Of(string name, ulong value) => new(name, CimValue.From(value));
}
