namespace ProvisioningFleet.WsMan.Cim;

/// <summary>One in-parameter of a method call, in the order it is sent.</summary>
public sealed record CimParameter(string Name, CimValue Value)
{
    public static CimParameter Of(string name, string value) => new(name, CimValue.From(value));

    public static CimParameter Of(string name, bool value) => new(name, CimValue.From(value));

    public static CimParameter Of(string name, long value) => new(name, CimValue.From(value));

    public static CimParameter Of(string name, ulong value) => new(name, CimValue.From(value));
}
