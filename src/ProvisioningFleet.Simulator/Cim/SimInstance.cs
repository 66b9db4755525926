using System.Globalization;

namespace ProvisioningFleet.Simulator.Cim;

/// <summary>A CIM datetime value: serialised as <c>cim:Datetime</c>, compared as text in WQL.</summary>
internal readonly record struct CimDatetime(DateTimeOffset Value)
{
    public override string ToString() => Value.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
}

/// <summary>
/// One CIM instance as the simulator holds it: properties in schema order. Values are string, bool,
/// an integer type, <see cref="CimDatetime"/>, an array of those, or null (sent as <c>xsi:nil</c>).
/// </summary>
internal sealed record SimInstance(string Namespace, string ClassName, IReadOnlyList<KeyValuePair<string, object?>> Properties)
{
    public bool TryGet(string name, out object? value)
    {
        foreach (var property in Properties)
        {
            if (string.Equals(property.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }
        value = null;
        return false;
    }

    /// <summary>The instance limited to the named properties (a WQL select list), in the order asked.</summary>
    public SimInstance Select(IReadOnlyList<string> names) => this with
    {
        Properties = [.. names.Select(n => Properties.First(p => string.Equals(p.Key, n, StringComparison.OrdinalIgnoreCase)))],
    };

    public static string FormatScalar(object value) => value switch
    {
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
