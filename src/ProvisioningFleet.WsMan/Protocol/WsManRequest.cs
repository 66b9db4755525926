using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Xml;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Protocol;

/// <summary>
/// Writes request envelopes with the headers Windows' WinRM service insists on. Selectors are written
/// only where an instance is addressed: a static method call carries none.
/// </summary>
internal static class WsManRequest
{
    private static readonly XmlWriterSettings WriterSettings = new()
    {
        Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        OmitXmlDeclaration = true,
        Indent = false,
        CloseOutput = false,
    };

    public static byte[] Identify()
    {
        using var buffer = new MemoryStream(512);
        using (var w = XmlWriter.Create(buffer, WriterSettings))
        {
            w.WriteStartElement("s", "Envelope", WsManNames.Soap);
            w.WriteAttributeString("xmlns", "wsmid", null, WsManNames.Identity);
            w.WriteStartElement("s", "Header", WsManNames.Soap);
            w.WriteEndElement();
            w.WriteStartElement("s", "Body", WsManNames.Soap);
            w.WriteStartElement("wsmid", "Identify", WsManNames.Identity);
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
        }

        return buffer.ToArray();
    }

    public static byte[] Get(WsManClientOptions options, string resourceUri, IReadOnlyDictionary<string, string>? selectors) =>
        Write(options, options.Endpoint.AbsoluteUri, NewMessageId(), WsManNames.ActionGet, resourceUri, selectors, static _ => { }, 0);

    public static byte[] Enumerate(WsManClientOptions options, string resourceUri, string? wqlFilter, bool optimize, int maxElements) =>
        FromTemplate(options, string.Join('\n', "Enumerate", resourceUri, wqlFilter ?? "\u0001", optimize ? "1" : "0", maxElements.ToString(CultureInfo.InvariantCulture)),
            () => WriteEnumerate(options, resourceUri, wqlFilter, optimize, maxElements, TemplateTo, TemplateMessageId))
        ?? WriteEnumerate(options, resourceUri, wqlFilter, optimize, maxElements, options.Endpoint.AbsoluteUri, NewMessageId());

    private static byte[] WriteEnumerate(WsManClientOptions options, string resourceUri, string? wqlFilter, bool optimize, int maxElements, string to, string messageId) =>
        Write(options, to, messageId, WsManNames.ActionEnumerate, resourceUri, null, w =>
        {
            w.WriteStartElement("n", "Enumerate", WsManNames.Enumeration);
            if (optimize)
            {
                w.WriteStartElement("w", "OptimizeEnumeration", WsManNames.WsMan);
                w.WriteEndElement();
                w.WriteElementString("w", "MaxElements", WsManNames.WsMan, maxElements.ToString(CultureInfo.InvariantCulture));
            }

            if (wqlFilter is not null)
            {
                w.WriteStartElement("w", "Filter", WsManNames.WsMan);
                w.WriteAttributeString("Dialect", WsManNames.WqlDialect);
                w.WriteString(wqlFilter);
                w.WriteEndElement();
            }

            w.WriteEndElement();
        }, 0);

    public static byte[] Pull(WsManClientOptions options, string resourceUri, string context, int maxElements) =>
        Write(options, options.Endpoint.AbsoluteUri, NewMessageId(), WsManNames.ActionPull, resourceUri, null, w =>
        {
            w.WriteStartElement("n", "Pull", WsManNames.Enumeration);
            w.WriteElementString("n", "EnumerationContext", WsManNames.Enumeration, context);
            w.WriteElementString("n", "MaxElements", WsManNames.Enumeration, maxElements.ToString(CultureInfo.InvariantCulture));
            w.WriteEndElement();
        }, 0);

    public static byte[] Release(WsManClientOptions options, string resourceUri, string context) =>
        Write(options, options.Endpoint.AbsoluteUri, NewMessageId(), WsManNames.ActionRelease, resourceUri, null, w =>
        {
            w.WriteStartElement("n", "Release", WsManNames.Enumeration);
            w.WriteElementString("n", "EnumerationContext", WsManNames.Enumeration, context);
            w.WriteEndElement();
        }, 0);

    public static byte[] Invoke(
        WsManClientOptions options,
        string resourceUri,
        string methodName,
        IReadOnlyList<CimParameter> parameters,
        IReadOnlyDictionary<string, string>? selectors) =>
        (selectors is null or { Count: 0 } && InvokeTemplateKey(resourceUri, methodName, parameters) is { } key
            ? FromTemplate(options, key, () => WriteInvoke(options, resourceUri, methodName, parameters, null, TemplateTo, TemplateMessageId))
            : null)
        ?? WriteInvoke(options, resourceUri, methodName, parameters, selectors, options.Endpoint.AbsoluteUri, NewMessageId());

    /// <summary>
    /// The shape of a static call with scalar parameters (the probe's registry reads, the fix): method, resource and each
    /// parameter's name, kind and text. Null for anything else (arrays, embedded instances, datetimes), written in full.
    /// </summary>
    private static string? InvokeTemplateKey(string resourceUri, string methodName, IReadOnlyList<CimParameter> parameters)
    {
        var key = new StringBuilder(128).Append("Invoke\n").Append(resourceUri).Append('\n').Append(methodName);
        foreach (var parameter in parameters)
        {
            if (parameter.Value.Kind is not (CimValueKind.Scalar or CimValueKind.Null))
            {
                return null;
            }

            key.Append('\n').Append(parameter.Name).Append('\u0001').Append((int)parameter.Value.Kind).Append('\u0001').Append(parameter.Value.Text);
        }

        return key.ToString();
    }

    private static byte[] WriteInvoke(
        WsManClientOptions options,
        string resourceUri,
        string methodName,
        IReadOnlyList<CimParameter> parameters,
        IReadOnlyDictionary<string, string>? selectors,
        string to,
        string messageId) =>
        Write(options, to, messageId, resourceUri + "/" + methodName, resourceUri, selectors, w =>
        {
            w.WriteStartElement("p", methodName + "_INPUT", resourceUri);
            foreach (var parameter in parameters)
            {
                WriteValue(w, parameter.Name, parameter.Value, resourceUri, depth: 0);
            }

            w.WriteEndElement();
        }, parameters.Count);

    private static byte[] Write(
        WsManClientOptions options,
        string to,
        string messageId,
        string action,
        string resourceUri,
        IReadOnlyDictionary<string, string>? selectors,
        Action<XmlWriter> writeBody,
        int sizeHint)
    {
        try
        {
            return WriteEnvelope(options, to, messageId, action, resourceUri, selectors, writeBody, sizeHint);
        }
        catch (ArgumentException e)
        {
            // XmlWriter refuses characters XML cannot carry (e.g. NUL); such a call can never be sent.
            throw new CimException(CimErrorCategory.Configuration, $"The request cannot be written as XML: {e.Message}", inner: e);
        }
    }

    private static byte[] WriteEnvelope(
        WsManClientOptions options,
        string to,
        string messageId,
        string action,
        string resourceUri,
        IReadOnlyDictionary<string, string>? selectors,
        Action<XmlWriter> writeBody,
        int sizeHint)
    {
        using var buffer = new MemoryStream(1536 + sizeHint * 64);
        using (var w = XmlWriter.Create(buffer, WriterSettings))
        {
            w.WriteStartElement("s", "Envelope", WsManNames.Soap);
            w.WriteAttributeString("xmlns", "a", null, WsManNames.Addressing);
            w.WriteAttributeString("xmlns", "w", null, WsManNames.WsMan);
            w.WriteAttributeString("xmlns", "p", null, WsManNames.MsWsMan);
            w.WriteAttributeString("xmlns", "xsi", null, WsManNames.Xsi);
            w.WriteAttributeString("xmlns", "cim", null, WsManNames.Cim);
            w.WriteStartElement("s", "Header", WsManNames.Soap);

            w.WriteElementString("a", "To", WsManNames.Addressing, to);
            MustUnderstand(w, "w", "ResourceURI", WsManNames.WsMan, resourceUri);
            w.WriteStartElement("a", "ReplyTo", WsManNames.Addressing);
            MustUnderstand(w, "a", "Address", WsManNames.Addressing, WsManNames.AnonymousAddress);
            w.WriteEndElement();
            MustUnderstand(w, "a", "Action", WsManNames.Addressing, action);
            MustUnderstand(w, "w", "MaxEnvelopeSize", WsManNames.WsMan, options.MaxEnvelopeSize.ToString(CultureInfo.InvariantCulture));
            w.WriteElementString("a", "MessageID", WsManNames.Addressing, messageId);
            WriteLocale(w, "w", "Locale", WsManNames.WsMan, options.Locale);
            WriteLocale(w, "p", "DataLocale", WsManNames.MsWsMan, options.Locale);
            w.WriteElementString("w", "OperationTimeout", WsManNames.WsMan, Duration(options.OperationTimeout));
            WritePreciseErrorCodesOption(w);

            if (selectors is { Count: > 0 })
            {
                w.WriteStartElement("w", "SelectorSet", WsManNames.WsMan);
                foreach (var (name, value) in selectors)
                {
                    w.WriteStartElement("w", "Selector", WsManNames.WsMan);
                    w.WriteAttributeString("Name", name);
                    w.WriteString(value);
                    w.WriteEndElement();
                }

                w.WriteEndElement();
            }

            w.WriteEndElement();
            w.WriteStartElement("s", "Body", WsManNames.Soap);
            writeBody(w);
            w.WriteEndElement();
            w.WriteEndElement();
        }

        return buffer.ToArray();
    }

    private static string NewMessageId() => "uuid:" + Guid.NewGuid().ToString("D").ToUpperInvariant();

    // Stand-ins written where the endpoint and the message id go; each must occur exactly once in a template.
    private const string TemplateTo = "urn:provisioningfleet:template:to";
    private const string TemplateMessageId = "uuid:provisioningfleet-template-message-id";
    private const int MaxTemplates = 256;

    private static readonly ConcurrentDictionary<string, EnvelopeTemplate?> Templates = new(StringComparer.Ordinal);

    /// <summary>
    /// An envelope made from a prepared template: the XmlWriter runs once per shape of request (action, resource, body
    /// and the client's header options), and each request only copies the bytes around its endpoint and a new message id.
    /// Null when this request cannot use one (an endpoint XML would escape, a full cache); the caller writes it in full,
    /// byte for byte the same.
    /// </summary>
    private static byte[]? FromTemplate(WsManClientOptions options, string shape, Func<byte[]> writeTemplate)
    {
        var to = options.Endpoint.AbsoluteUri;
        if (to.AsSpan().IndexOfAny('&', '<', '>') >= 0)
        {
            return null;
        }

        var key = string.Join('\n', shape, options.MaxEnvelopeSize.ToString(CultureInfo.InvariantCulture), options.Locale,
            options.OperationTimeout.Ticks.ToString(CultureInfo.InvariantCulture));
        if (!Templates.TryGetValue(key, out var template))
        {
            if (Templates.Count >= MaxTemplates)
            {
                return null;
            }

            template = EnvelopeTemplate.From(writeTemplate());
            Templates.TryAdd(key, template);
        }

        return template?.Render(to);
    }

    private sealed class EnvelopeTemplate(byte[] bytes, int toAt, int messageIdAt)
    {
        private static readonly byte[] ToMark = Encoding.UTF8.GetBytes(TemplateTo);
        private static readonly byte[] MessageIdMark = Encoding.UTF8.GetBytes(TemplateMessageId);

        // "uuid:" and 36 characters of an upper-case GUID, as Windows' own client writes it.
        private const int MessageIdLength = 41;

        public static EnvelopeTemplate? From(byte[] envelope)
        {
            var toAt = envelope.AsSpan().IndexOf(ToMark);
            var messageIdAt = envelope.AsSpan().IndexOf(MessageIdMark);
            var once = toAt >= 0 && messageIdAt > toAt
                && envelope.AsSpan(toAt + ToMark.Length).IndexOf(ToMark) < 0
                && envelope.AsSpan(messageIdAt + MessageIdMark.Length).IndexOf(MessageIdMark) < 0;
            return once ? new EnvelopeTemplate(envelope, toAt, messageIdAt) : null;
        }

        public byte[] Render(string to)
        {
            var toLength = Encoding.UTF8.GetByteCount(to);
            var result = new byte[bytes.Length - ToMark.Length + toLength - MessageIdMark.Length + MessageIdLength];
            var source = bytes.AsSpan();
            var target = result.AsSpan();
            source[..toAt].CopyTo(target);
            target = target[toAt..];
            target = target[Encoding.UTF8.GetBytes(to, target)..];
            var afterTo = toAt + ToMark.Length;
            source[afterTo..messageIdAt].CopyTo(target);
            target = target[(messageIdAt - afterTo)..];
            "uuid:"u8.CopyTo(target);
            Guid.NewGuid().TryFormat(target[5..], out _, "D");
            foreach (ref var b in target[5..MessageIdLength])
            {
                if (b is >= (byte)'a' and <= (byte)'f')
                {
                    b -= 'a' - 'A';
                }
            }

            source[(messageIdAt + MessageIdMark.Length)..].CopyTo(target[MessageIdLength..]);
            return result;
        }
    }

    private static void WriteValue(XmlWriter w, string name, CimValue value, string ns, int depth)
    {
        if (depth > 16)
        {
            throw new CimException(CimErrorCategory.Configuration, $"Parameter '{name}' nests embedded instances too deeply.");
        }

        switch (value.Kind)
        {
            case CimValueKind.Null:
                w.WriteStartElement("p", name, ns);
                w.WriteAttributeString("xsi", "nil", WsManNames.Xsi, "true");
                w.WriteEndElement();
                break;
            case CimValueKind.Array:
                foreach (var item in value.Items)
                {
                    WriteValue(w, name, item, ns, depth + 1);
                }

                break;
            case CimValueKind.DateTime:
                w.WriteStartElement("p", name, ns);
                w.WriteElementString("cim", "Datetime", WsManNames.Cim, value.Text);
                w.WriteEndElement();
                break;
            case CimValueKind.Instance:
                w.WriteStartElement("p", name, ns);
                foreach (var (propertyName, propertyValue) in value.Instance!.Properties)
                {
                    WriteValue(w, propertyName, propertyValue, ns, depth + 1);
                }

                w.WriteEndElement();
                break;
            default:
                w.WriteElementString("p", name, ns, value.Text);
                break;
        }
    }

    /// <summary>
    /// Asks the WMI plug-in for the WMI error as an MSFT_WmiError instance in every fault, as Microsoft's
    /// own CIM client does; without it Windows puts the WMI error only in the message text. Not marked
    /// MustComply: [MS-WSMV] 3.1.4.1.10 lets Windows refuse any option marked so on a WMI resource.
    /// </summary>
    private static void WritePreciseErrorCodesOption(XmlWriter w)
    {
        w.WriteStartElement("w", "OptionSet", WsManNames.WsMan);
        w.WriteStartElement("w", "Option", WsManNames.WsMan);
        w.WriteAttributeString("Name", WsManNames.UsePreciseErrorCodesOption);
        w.WriteAttributeString("Type", "xs:boolean");
        w.WriteString("true");
        w.WriteEndElement();
        w.WriteEndElement();
    }

    private static void MustUnderstand(XmlWriter w, string prefix, string name, string ns, string value)
    {
        w.WriteStartElement(prefix, name, ns);
        w.WriteAttributeString("s", "mustUnderstand", WsManNames.Soap, "true");
        w.WriteString(value);
        w.WriteEndElement();
    }

    private static void WriteLocale(XmlWriter w, string prefix, string name, string ns, string locale)
    {
        w.WriteStartElement(prefix, name, ns);
        w.WriteAttributeString("xml", "lang", WsManNames.Xml, locale);
        w.WriteAttributeString("s", "mustUnderstand", WsManNames.Soap, "false");
        w.WriteEndElement();
    }

    /// <summary>xs:duration in seconds with milliseconds, the form Windows' own client sends (PT60.000S).</summary>
    private static string Duration(TimeSpan timeout) =>
        "PT" + timeout.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + "S";
}
