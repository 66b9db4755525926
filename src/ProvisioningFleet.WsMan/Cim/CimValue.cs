using System.Globalization;

namespace ProvisioningFleet.WsMan.Cim;

/// <summary>
/// A CIM property or parameter value. WS-Management carries values as text without a type (only
/// <c>xsi:nil</c> and <c>cim:Datetime</c> are marked), so a value keeps its text and is read with the
/// typed accessor the caller's schema knowledge calls for.
/// </summary>
public sealed class CimValue
{
    public static readonly CimValue Null = new(CimValueKind.Null, null, null, null);

    private CimValue(CimValueKind kind, string? text, IReadOnlyList<CimValue>? items, CimInstance? instance, CimScalarType scalarType = CimScalarType.Text)
    {
        Kind = kind;
        ScalarType = scalarType;
        Text = text;
        Items = items ?? [];
        Instance = instance;
    }

    public CimValueKind Kind { get; }

    /// <summary>
    /// The .NET type a scalar was made from, for stacks that need typed values (MI over DCOM). Values
    /// read from WS-Man replies are <see cref="CimScalarType.Text"/>, as the wire carries no type.
    /// </summary>
    public CimScalarType ScalarType { get; }

    /// <summary>The wire text of a scalar or datetime; null for nil, arrays and embedded instances.</summary>
    public string? Text { get; }

    /// <summary>The elements of an array (WS-Man repeats the element once per item).</summary>
    public IReadOnlyList<CimValue> Items { get; }

    public CimInstance? Instance { get; }

    public bool IsNull => Kind == CimValueKind.Null;

    public static CimValue Scalar(string text) => new(CimValueKind.Scalar, text, null, null);

    public static CimValue From(string? text) => text is null ? Null : Scalar(text);

    public static CimValue From(bool value) => new(CimValueKind.Scalar, value ? "true" : "false", null, null, CimScalarType.Boolean);

    public static CimValue From(long value) =>
        new(CimValueKind.Scalar, value.ToString(CultureInfo.InvariantCulture), null, null, CimScalarType.SignedInteger);

    public static CimValue From(ulong value) =>
        new(CimValueKind.Scalar, value.ToString(CultureInfo.InvariantCulture), null, null, CimScalarType.UnsignedInteger);

    public static CimValue From(DateTimeOffset value) =>
        new(CimValueKind.DateTime, value.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture), null, null);

    /// <summary>A datetime exactly as the wire carried it (xs:dateTime or a DMTF datetime string).</summary>
    public static CimValue DateTimeText(string text) => new(CimValueKind.DateTime, text, null, null);

    public static CimValue Array(IEnumerable<CimValue> items) => new(CimValueKind.Array, null, items.ToArray(), null);

    public static CimValue Embedded(CimInstance instance) => new(CimValueKind.Instance, null, null, instance);

    public string? AsString() => Kind switch
    {
        CimValueKind.Scalar or CimValueKind.DateTime => Text,
        _ => null,
    };

    public long? AsInt64() =>
        Text is not null && long.TryParse(Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    public ulong? AsUInt64() =>
        Text is not null && ulong.TryParse(Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    public uint? AsUInt32() =>
        Text is not null && uint.TryParse(Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    public bool? AsBoolean() => Text?.Trim().ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => null,
    };

    /// <summary>
    /// Reads xs:dateTime (<c>2026-11-25T10:00:00Z</c>, <c>...+01:00</c>) and DMTF datetimes
    /// (<c>20261125100000.000000+060</c>, offset in minutes) as UTC.
    /// </summary>
    public DateTimeOffset? AsDateTime() => Text is null ? null : CimDateTime.TryParse(Text, out var v) ? v : null;

    public override string ToString() => Kind switch
    {
        CimValueKind.Null => "<nil>",
        CimValueKind.Array => "[" + string.Join(", ", Items) + "]",
        CimValueKind.Instance => Instance!.ToString(),
        _ => Text!,
    };
}

public enum CimScalarType
{
    Text,
    Boolean,
    SignedInteger,
    UnsignedInteger,
}

public enum CimValueKind
{
    Null,
    Scalar,
    DateTime,
    Array,
    Instance,
}
