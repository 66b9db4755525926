using System.Text;
using System.Xml;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Protocol;

/// <summary>
/// Reads reply envelopes with a forward-only XmlReader: no DTDs, no external resolution, a cap on
/// characters and on nesting, so a hostile reply costs bounded time and memory. Anything that is not a
/// SOAP 1.2 envelope with the expected body is a <see cref="CimErrorCategory.Protocol"/> error; a
/// SOAP fault is sorted by <see cref="WsManFaultReader"/>.
/// </summary>
internal static class WsManReply
{
    private const int MaxDepth = 48;

    public static CimInstance ReadGet(ReadOnlyMemory<byte> reply) =>
        Read(reply, static r => r is null
            ? throw Protocol("The Get reply has an empty body.")
            : ReadInstance(r, fallbackClassName: null));

    public static CimMethodResult ReadInvoke(ReadOnlyMemory<byte> reply, string methodName) =>
        Read(reply, methodName, static (r, methodName) =>
        {
            if (r is null || !r.LocalName.EndsWith("_OUTPUT", StringComparison.Ordinal))
            {
                throw Protocol($"The reply to {methodName} has no {methodName}_OUTPUT element.");
            }

            // The output element's properties are the out-parameters themselves, less ReturnValue: no second dictionary.
            var outParameters = ReadProperties(r);
            return new CimMethodResult(outParameters.Remove("ReturnValue", out var returnValue) ? returnValue : CimValue.Null, outParameters);
        });

    public static WsManEnumerationPage ReadEnumeration(ReadOnlyMemory<byte> reply, string? fallbackClassName) =>
        Read(reply, fallbackClassName, static (r, fallbackClassName) =>
        {
            if (r is null || (r.LocalName != "EnumerateResponse" && r.LocalName != "PullResponse") || r.NamespaceURI != WsManNames.Enumeration)
            {
                throw Protocol("The reply is neither an EnumerateResponse nor a PullResponse.");
            }

            string? context = null;
            var endOfSequence = false;
            var items = new List<CimInstance>();
            if (!r.IsEmptyElement)
            {
                var depth = r.Depth;
                r.Read();
                while (r.Depth > depth)
                {
                    if (r.NodeType != XmlNodeType.Element)
                    {
                        r.Read();
                        continue;
                    }

                    switch (r.LocalName)
                    {
                        case "EnumerationContext":
                            context = r.ReadElementContentAsString().Trim();
                            break;
                        case "EndOfSequence":
                            endOfSequence = true;
                            r.Skip();
                            break;
                        case "Items":
                            ReadItems(r, items, fallbackClassName);
                            break;
                        default:
                            r.Skip();
                            break;
                    }
                }
            }

            if (!endOfSequence && string.IsNullOrEmpty(context))
            {
                throw Protocol("The enumeration reply has neither an EnumerationContext nor EndOfSequence.");
            }

            return new WsManEnumerationPage(items, endOfSequence ? null : context);
        });

    public static void ReadRelease(ReadOnlyMemory<byte> reply) => Read(reply, static _ => true);

    public static WsManIdentity ReadIdentify(ReadOnlyMemory<byte> reply) =>
        Read(reply, static r =>
        {
            if (r is null || r.LocalName != "IdentifyResponse" || r.NamespaceURI != WsManNames.Identity)
            {
                throw Protocol("The reply is not an IdentifyResponse.");
            }

            var identity = ReadInstance(r, fallbackClassName: null);
            return new WsManIdentity(
                identity["ProtocolVersion"].AsString() ?? throw Protocol("The IdentifyResponse has no ProtocolVersion."),
                identity["ProductVendor"].AsString(),
                identity["ProductVersion"].AsString());
        });

    private static T Read<T>(ReadOnlyMemory<byte> reply, Func<XmlReader?, T> readBody) =>
        Read(reply, readBody, static (r, readBody) => readBody(r));

    /// <summary>
    /// Opens the envelope, throws on faults, and hands the first Body child (or null) to <paramref name="readBody"/>
    /// with <paramref name="state"/>, which spares each reply a closure.
    /// </summary>
    private static T Read<TState, T>(ReadOnlyMemory<byte> reply, TState state, Func<XmlReader?, TState, T> readBody)
    {
        try
        {
            using var opened = WsManXml.CreateReader(reply);
            var reader = opened.Reader;
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "Envelope" || reader.NamespaceURI != WsManNames.Soap)
            {
                throw Protocol("The reply is not a SOAP 1.2 envelope.");
            }

            if (reader.IsEmptyElement)
            {
                throw Protocol("The reply envelope has no body.");
            }

            reader.Read();
            while (reader.NodeType != XmlNodeType.EndElement)
            {
                if (reader.NodeType != XmlNodeType.Element)
                {
                    reader.Read();
                    continue;
                }

                if (reader.LocalName != "Body" || reader.NamespaceURI != WsManNames.Soap)
                {
                    reader.Skip();
                    continue;
                }

                if (reader.IsEmptyElement)
                {
                    return readBody(null, state);
                }

                reader.Read();
                while (reader.NodeType != XmlNodeType.Element && reader.NodeType != XmlNodeType.EndElement)
                {
                    reader.Read();
                }

                if (reader.NodeType == XmlNodeType.EndElement)
                {
                    return readBody(null, state);
                }

                if (reader.LocalName == "Fault" && reader.NamespaceURI == WsManNames.Soap)
                {
                    throw WsManFaultReader.Read(reader);
                }

                return readBody(reader, state);
            }

            throw Protocol("The reply envelope has no body.");
        }
        catch (XmlException e)
        {
            throw new CimException(CimErrorCategory.Protocol, $"The reply is not well-formed XML: {e.Message}", inner: e);
        }
        catch (InvalidOperationException e)
        {
            throw new CimException(CimErrorCategory.Protocol, $"The reply could not be read: {e.Message}", inner: e);
        }
    }

    private static void ReadItems(XmlReader r, List<CimInstance> items, string? fallbackClassName)
    {
        if (r.IsEmptyElement)
        {
            r.Read();
            return;
        }

        var depth = r.Depth;
        r.Read();
        while (r.Depth > depth)
        {
            if (r.NodeType == XmlNodeType.Element)
            {
                items.Add(ReadInstance(r, fallbackClassName));
            }
            else
            {
                r.Read();
            }
        }

        r.Read();
    }

    /// <summary>
    /// Reads the element under the reader as an instance: each child element a property, a repeated
    /// child an array. A WQL projection arrives as <c>wsman:XmlFragment</c>, which names no class, so
    /// the caller's class name is used. Leaves the reader after the element.
    /// </summary>
    internal static CimInstance ReadInstance(XmlReader r, string? fallbackClassName)
    {
        var className = r.LocalName == "XmlFragment" && fallbackClassName is not null ? fallbackClassName : r.LocalName;
        return new CimInstance(className, ReadProperties(r));
    }

    /// <summary>The properties of the element under the reader (see <see cref="ReadInstance"/>); leaves the reader after it.</summary>
    private static Dictionary<string, CimValue> ReadProperties(XmlReader r)
    {
        var properties = new Dictionary<string, CimValue>(StringComparer.OrdinalIgnoreCase);
        if (r.IsEmptyElement)
        {
            r.Read();
            return properties;
        }

        var depth = r.Depth;
        Dictionary<string, List<CimValue>>? repeated = null;
        r.Read();
        while (r.Depth > depth)
        {
            if (r.NodeType != XmlNodeType.Element)
            {
                r.Read();
                continue;
            }

            var name = r.LocalName;
            var value = ReadValue(r);
            if (!properties.TryGetValue(name, out var existing))
            {
                properties[name] = value;
                continue;
            }

            repeated ??= new Dictionary<string, List<CimValue>>(StringComparer.OrdinalIgnoreCase);
            if (!repeated.TryGetValue(name, out var list))
            {
                list = [existing];
                repeated[name] = list;
            }

            list.Add(value);
        }

        r.Read();
        if (repeated is not null)
        {
            foreach (var (name, list) in repeated)
            {
                properties[name] = CimValue.Array(list);
            }
        }

        return properties;
    }

    private static CimValue ReadValue(XmlReader r)
    {
        if (r.Depth > MaxDepth)
        {
            throw Protocol("The reply nests elements too deeply.");
        }

        var nil = r.GetAttribute("nil", WsManNames.Xsi);
        if (nil is not null && (nil == "true" || nil == "1"))
        {
            r.Skip();
            return CimValue.Null;
        }

        if (r.IsEmptyElement)
        {
            r.Read();
            return CimValue.Scalar(string.Empty);
        }

        var depth = r.Depth;
        var typeName = r.GetAttribute("type", WsManNames.Xsi);
        var elementName = r.LocalName;
        r.Read();
        string? text = null;
        StringBuilder? longText = null;
        Dictionary<string, List<CimValue>>? embedded = null;
        string? datetime = null;
        while (r.Depth > depth)
        {
            switch (r.NodeType)
            {
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace or XmlNodeType.Whitespace:
                    if (text is null)
                    {
                        text = r.Value;
                    }
                    else
                    {
                        (longText ??= new StringBuilder(text)).Append(r.Value);
                    }

                    r.Read();
                    break;
                case XmlNodeType.Element when r.NamespaceURI == WsManNames.Cim && r.LocalName is "Datetime" or "Date" or "Time" or "Interval":
                    datetime = r.ReadElementContentAsString().Trim();
                    break;
                case XmlNodeType.Element:
                    var name = r.LocalName;
                    embedded ??= new Dictionary<string, List<CimValue>>(StringComparer.OrdinalIgnoreCase);
                    if (!embedded.TryGetValue(name, out var values))
                    {
                        embedded[name] = values = new List<CimValue>(1);
                    }

                    values.Add(ReadValue(r));
                    break;
                default:
                    r.Read();
                    break;
            }
        }

        r.Read();
        if (datetime is not null)
        {
            return CimValue.DateTimeText(datetime);
        }

        if (embedded is not null)
        {
            var embeddedClass = typeName is null ? elementName : StripTypeSuffix(typeName);
            return CimValue.Embedded(new CimInstance(embeddedClass, embedded.ToDictionary(
                p => p.Key, p => p.Value.Count == 1 ? p.Value[0] : CimValue.Array(p.Value), StringComparer.OrdinalIgnoreCase)));
        }

        return CimValue.Scalar(longText?.ToString() ?? text ?? string.Empty);
    }

    private static string StripTypeSuffix(string typeName)
    {
        var local = typeName[(typeName.IndexOf(':') + 1)..];
        return local.EndsWith("_Type", StringComparison.Ordinal) ? local[..^5] : local;
    }

    internal static CimException Protocol(string message) => new(CimErrorCategory.Protocol, message);
}

/// <summary>One batch of an enumeration; <see cref="Context"/> is null once the sequence has ended.</summary>
public sealed record WsManEnumerationPage(IReadOnlyList<CimInstance> Items, string? Context)
{
    public bool EndOfSequence => Context is null;
}

/// <summary>What an Identify reply says about the server.</summary>
public sealed record WsManIdentity(string ProtocolVersion, string? ProductVendor, string? ProductVersion);
