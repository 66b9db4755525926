using System.Xml;

namespace ProvisioningFleet.WsMan.Protocol;

/// <summary>
/// The name table that the replies read on one thread share (<see cref="WsManXml"/>), so a reply's element,
/// attribute, prefix and namespace names are the strings of earlier replies instead of new ones each time.
/// It only counts what it adds: once over <see cref="MaxNames"/> names or <see cref="MaxNameChars"/>
/// characters, <see cref="IsFull"/> tells its owner to drop it after the reply in progress, so a peer that
/// sends ever new names costs at most one reply's names on top of the bound, as a table per reply would.
/// </summary>
internal sealed class WsManNameTable : XmlNameTable
{
    /// <summary>A probe's replies use a few dozen names; an inventory of many classes, a few hundred.</summary>
    internal const int MaxNames = 1024;

    internal const int MaxNameChars = 32 * 1024;

    /// <summary>
    /// Seeded with the very strings the readers compare names against, so that a name they look for comes
    /// back as the same instance and string equality ends at its reference check.
    /// </summary>
    private static readonly string[] ComparedNames =
    [
        WsManNames.Soap, WsManNames.Enumeration, WsManNames.Identity, WsManNames.WsManFault, WsManNames.Cim, WsManNames.Xsi,
        "Envelope", "Body", "Fault", "Subcode", "Value", "Text", "WSManFault", "Code", "Message", "error_WindowsErrorMessage",
        "CIMStatusCode", "StatusCode", "error_Code", "EnumerateResponse", "PullResponse", "EnumerationContext", "EndOfSequence",
        "Items", "IdentifyResponse", "XmlFragment", "nil", "type", "Datetime", "Date", "Time", "Interval", "ReturnValue",
    ];

    private readonly NameTable _names = new();
    private int _count;
    private int _chars;

    public WsManNameTable()
    {
        foreach (var name in ComparedNames)
        {
            Add(name);
        }
    }

    public bool IsFull => _count > MaxNames || _chars > MaxNameChars;

    public override string Add(char[] key, int start, int len) => _names.Get(key, start, len) ?? Added(_names.Add(key, start, len));

    public override string Add(string key) => _names.Get(key) ?? Added(_names.Add(key));

    public override string? Get(char[] key, int start, int len) => _names.Get(key, start, len);

    public override string? Get(string value) => _names.Get(value);

    private string Added(string name)
    {
        _count++;
        _chars += name.Length;
        return name;
    }
}
