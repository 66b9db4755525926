namespace ProvisioningFleet.WsMan.Cim;

/// <summary>An instance as WS-Management returns it: a class name and its properties by name.</summary>
public sealed class CimInstance(string className, IReadOnlyDictionary<string, CimValue> properties)
{
    public string ClassName { get; } = className;

    /// <summary>Properties by name, case-insensitive as WMI names are.</summary>
    public IReadOnlyDictionary<string, CimValue> Properties { get; } =
        properties is Dictionary<string, CimValue> { Comparer: var comparer } dictionary && comparer == StringComparer.OrdinalIgnoreCase
            ? dictionary
            : new Dictionary<string, CimValue>(properties, StringComparer.OrdinalIgnoreCase);

    /// <summary>A missing property reads as nil, as WMI reports unset properties.</summary>
    public CimValue this[string name] => Properties.TryGetValue(name, out var v) ? v : CimValue.Null;

    public override string ToString() => $"{ClassName} ({Properties.Count} properties)";
}
