using System.Collections;
using System.Globalization;
using System.Xml;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Cim.Mi;

/// <summary>
/// Converts between the values MI hands out (typed .NET values) and our text-carrying
/// <see cref="CimValue"/>, and infers .NET types for in-parameters, since WMI over DCOM wants typed
/// values where WS-Man carries text.
/// </summary>
internal static class MiValues
{
    public static CimValue ToCimValue(object? value, Func<object, CimInstance?> embedded) => value switch
    {
        null => CimValue.Null,
        string s => CimValue.Scalar(s),
        bool b => CimValue.From(b),
        char c => CimValue.Scalar(c.ToString()),
        DateTime d => CimValue.From(new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : d)),
        DateTimeOffset d => CimValue.From(d),
        TimeSpan t => CimValue.DateTimeText(XmlConvert.ToString(t)),
        float f => CimValue.Scalar(f.ToString("R", CultureInfo.InvariantCulture)),
        double d => CimValue.Scalar(d.ToString("R", CultureInfo.InvariantCulture)),
        IFormattable number when IsInteger(number) => CimValue.Scalar(number.ToString(null, CultureInfo.InvariantCulture)),
        IEnumerable items and not string => CimValue.Array(items.Cast<object?>().Select(i => ToCimValue(i, embedded))),
        _ => embedded(value) is { } instance ? CimValue.Embedded(instance) : CimValue.Scalar(value.ToString() ?? string.Empty),
    };

    /// <summary>
    /// The .NET value for an in-parameter, typed by how the value was made: booleans as bool, integers
    /// as the narrowest of int, uint, long, ulong (WMI widens), datetimes as UTC DateTime, text as string.
    /// </summary>
    public static object? ToMiValue(CimValue value) => value.Kind switch
    {
        CimValueKind.Null => null,
        CimValueKind.DateTime => value.AsDateTime()?.UtcDateTime ?? (object?)value.Text,
        CimValueKind.Array => ToMiArray(value.Items),
        CimValueKind.Instance => throw new CimException(CimErrorCategory.Configuration, "Embedded instances as in-parameters are not supported by the MI adapter."),
        _ => value.ScalarType switch
        {
            CimScalarType.Boolean => value.AsBoolean(),
            CimScalarType.SignedInteger => value.AsInt64() is { } l and >= int.MinValue and <= int.MaxValue ? (object)(int)l : value.AsInt64(),
            CimScalarType.UnsignedInteger => value.AsUInt64() is { } u and <= uint.MaxValue ? (object)(uint)u : value.AsUInt64(),
            _ => value.Text,
        },
    };

    private static object ToMiArray(IReadOnlyList<CimValue> items)
    {
        var values = items.Select(ToMiValue).ToArray();
        if (values.Length > 0 && values.All(v => v is bool))
        {
            return values.Cast<bool>().ToArray();
        }

        if (values.Length > 0 && values.All(v => v is int or uint or long or ulong))
        {
            return values.All(v => v is int) ? values.Cast<int>().ToArray()
                : values.All(v => v is uint or int { } and >= 0) ? values.Select(v => Convert.ToUInt32(v, CultureInfo.InvariantCulture)).ToArray()
                : values.Select(v => Convert.ToInt64(v, CultureInfo.InvariantCulture)).ToArray();
        }

        return values.Select(v => v switch
        {
            DateTime d => d.ToString("O", CultureInfo.InvariantCulture),
            _ => Convert.ToString(v, CultureInfo.InvariantCulture),
        }).ToArray();
    }

    private static bool IsInteger(object value) =>
        value is sbyte or byte or short or ushort or int or uint or long or ulong;
}
