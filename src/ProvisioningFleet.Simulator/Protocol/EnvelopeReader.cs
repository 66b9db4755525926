using System.Xml;

namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>What a request envelope says, as far as <see cref="WsManRequest"/> checks it and the dispatcher reads it; nothing judged yet.</summary>
internal sealed class EnvelopeContent
{
    public required string RootLocalName { get; init; }
    public required string RootNamespace { get; init; }
    public bool HasHeader { get; set; }
    public bool HasBody { get; set; }

    /// <summary>The first header marked <c>mustUnderstand</c> that the service does not understand, in <c>{namespace}local</c> form.</summary>
    public string? NotUnderstoodHeader { get; set; }

    /// <summary>The first element inside <c>s:Body</c>; null for an empty body.</summary>
    public RequestBodyElement? BodyElement { get; set; }

    // Header values trimmed; null when the header is absent. Only the first of each header counts.
    public string? Action { get; set; }
    public string? MessageId { get; set; }
    public string? ResourceUri { get; set; }
    public bool HasTo { get; set; }
    public bool ToHasText { get; set; }
    public bool HasReplyTo { get; set; }
    public bool HasReplyToAddress { get; set; }
    public bool ReplyToIsAnonymous { get; set; }

    public bool HasOptionSet { get; set; }
    public bool HasStrictOption { get; set; }

    /// <summary>The <c>Name</c> of the first option marked <c>MustComply</c>; null if it has none.</summary>
    public string? StrictOptionName { get; set; }

    public bool UsePreciseErrorCodes { get; set; }

    public bool HasSelectorSet { get; set; }
    public Dictionary<string, string>? Selectors { get; set; }
    public bool HasMalformedSelector { get; set; }
}

/// <summary>
/// Reads a request envelope in one forward pass, keeping only what <see cref="EnvelopeContent"/> holds: no tree is
/// built, and the text of headers that are only checked (<c>wsa:To</c>, <c>wsa:ReplyTo</c>) is never made a string.
/// The whole document is read before anything in it is judged, so XML that is not well-formed is refused as such
/// wherever its error is, as a parse into a document refused it.
/// </summary>
internal static class EnvelopeReader
{
    private const string PreciseErrorCodesOption = "msftwinrm:UsePreciseErrorCodes";

    /// <summary>
    /// The reader settings, name table and text buffer of one thread, reused from request to request so that the
    /// names every request carries are not created again each time. A request that invents names or carries long
    /// text grows them only for itself: past these sizes they are dropped after it.
    /// </summary>
    private sealed class ThreadReader
    {
        private const int MaxNamesKept = 1024;
        private const int InitialTextLength = 256;
        private const int MaxTextLengthKept = 16 * 1024;

        private readonly CountingNameTable _names = new();

        public ThreadReader() => Settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreWhitespace = true,
            NameTable = _names,
        };

        public XmlReaderSettings Settings { get; }

        public char[] Text { get; private set; } = new char[InitialTextLength];

        public bool IsWorthKeeping => _names.Count <= MaxNamesKept;

        /// <summary>Makes room for a surrogate pair at least: <see cref="XmlReader.ReadValueChunk"/> throws rather than split one.</summary>
        public void EnsureRoom(int used)
        {
            if (Text.Length - used < 2)
            {
                var larger = new char[Text.Length * 2];
                Text.AsSpan(0, used).CopyTo(larger);
                Text = larger;
            }
        }

        public void ShrinkText()
        {
            if (Text.Length > MaxTextLengthKept)
            {
                Text = new char[InitialTextLength];
            }
        }
    }

    /// <summary>A <see cref="NameTable"/> that counts the names added to it.</summary>
    private sealed class CountingNameTable : XmlNameTable
    {
        private readonly NameTable _names = new();

        public int Count { get; private set; }

        public override string Add(char[] key, int start, int len) => _names.Get(key, start, len) ?? Added(_names.Add(key, start, len));

        public override string Add(string key) => _names.Get(key) ?? Added(_names.Add(key));

        public override string? Get(char[] key, int start, int len) => _names.Get(key, start, len);

        public override string? Get(string value) => _names.Get(value);

        private string Added(string name)
        {
            Count++;
            return name;
        }
    }

    [ThreadStatic]
    private static ThreadReader? _threadReader;

    /// <exception cref="XmlException">The message is not well-formed XML, or has a DTD.</exception>
    public static EnvelopeContent Read(byte[] message)
    {
        var state = _threadReader ?? new ThreadReader();
        _threadReader = null;
        try
        {
            using var stream = new MemoryStream(message, writable: false);
            using var reader = XmlReader.Create(stream, state.Settings);
            reader.MoveToContent();
            var content = new EnvelopeContent { RootLocalName = reader.LocalName, RootNamespace = reader.NamespaceURI };
            if (IsSoap(reader, "Envelope"))
            {
                ReadEnvelope(reader, content, state);
            }
            while (reader.Read())
            {
            }
            return content;
        }
        finally
        {
            if (state.IsWorthKeeping)
            {
                state.ShrinkText();
                _threadReader = state;
            }
        }
    }

    private static void ReadEnvelope(XmlReader reader, EnvelopeContent content, ThreadReader state)
    {
        var depth = reader.Depth;
        if (!EnterContent(reader))
        {
            return;
        }
        while (NextChildElement(reader, depth))
        {
            if (!content.HasHeader && IsSoap(reader, "Header"))
            {
                content.HasHeader = true;
                ReadHeader(reader, content, state);
            }
            else if (!content.HasBody && IsSoap(reader, "Body"))
            {
                content.HasBody = true;
                ReadBody(reader, content, state);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadHeader(XmlReader reader, EnvelopeContent content, ThreadReader state)
    {
        var depth = reader.Depth;
        if (!EnterContent(reader))
        {
            return;
        }
        while (NextChildElement(reader, depth))
        {
            var ns = reader.NamespaceURI;
            var name = reader.LocalName;
            if (ns == WsManNames.Addressing)
            {
                switch (name)
                {
                    case "Action" when content.Action is null:
                        content.Action = ReadText(reader, state).Trim().ToString();
                        continue;
                    case "MessageID" when content.MessageId is null:
                        content.MessageId = ReadText(reader, state).Trim().ToString();
                        continue;
                    case "To" when !content.HasTo:
                        content.HasTo = true;
                        content.ToHasText = !ReadText(reader, state).IsWhiteSpace();
                        continue;
                    case "ReplyTo" when !content.HasReplyTo:
                        content.HasReplyTo = true;
                        ReadReplyTo(reader, content, state);
                        continue;
                    case "Action" or "MessageID" or "To" or "ReplyTo" or "FaultTo":
                        reader.Skip();
                        continue;
                }
            }
            else if (ns == WsManNames.WsMan)
            {
                switch (name)
                {
                    case "ResourceURI" when content.ResourceUri is null:
                        content.ResourceUri = ReadText(reader, state).Trim().ToString();
                        continue;
                    case "OptionSet" when !content.HasOptionSet:
                        content.HasOptionSet = true;
                        ReadOptionSet(reader, content, state);
                        continue;
                    case "SelectorSet" when !content.HasSelectorSet:
                        content.HasSelectorSet = true;
                        ReadSelectorSet(reader, content, state);
                        continue;
                    case "ResourceURI" or "OptionSet" or "SelectorSet" or "MaxEnvelopeSize" or "OperationTimeout" or "Locale":
                        reader.Skip();
                        continue;
                }
            }
            else if (ns == WsManNames.MsWsMan && name is "DataLocale" or "SessionId" or "OperationID" or "SequenceId")
            {
                reader.Skip();
                continue;
            }

            if (content.NotUnderstoodHeader is null && reader.GetAttribute("mustUnderstand", WsManNames.Soap) is "true" or "1")
            {
                content.NotUnderstoodHeader = RequestBodyElement.ExpandedName(ns, name);
            }
            reader.Skip();
        }
    }

    private static void ReadReplyTo(XmlReader reader, EnvelopeContent content, ThreadReader state)
    {
        var depth = reader.Depth;
        if (!EnterContent(reader))
        {
            return;
        }
        while (NextChildElement(reader, depth))
        {
            if (!content.HasReplyToAddress && reader.LocalName == "Address" && reader.NamespaceURI == WsManNames.Addressing)
            {
                content.HasReplyToAddress = true;
                content.ReplyToIsAnonymous = ReadText(reader, state).Trim() is WsManNames.Anonymous;
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadOptionSet(XmlReader reader, EnvelopeContent content, ThreadReader state)
    {
        var depth = reader.Depth;
        if (!EnterContent(reader))
        {
            return;
        }
        while (NextChildElement(reader, depth))
        {
            if (reader.LocalName != "Option" || reader.NamespaceURI != WsManNames.WsMan)
            {
                reader.Skip();
                continue;
            }
            var name = reader.GetAttribute("Name", string.Empty);
            if (!content.HasStrictOption && reader.GetAttribute("MustComply", string.Empty) is "true" or "1")
            {
                content.HasStrictOption = true;
                content.StrictOptionName = name;
            }
            if (!content.UsePreciseErrorCodes && string.Equals(name, PreciseErrorCodesOption, StringComparison.OrdinalIgnoreCase))
            {
                content.UsePreciseErrorCodes = ReadText(reader, state).Trim() is "true" or "1";
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadSelectorSet(XmlReader reader, EnvelopeContent content, ThreadReader state)
    {
        var depth = reader.Depth;
        if (!EnterContent(reader))
        {
            return;
        }
        while (NextChildElement(reader, depth))
        {
            var name = content.HasMalformedSelector || reader.LocalName != "Selector" || reader.NamespaceURI != WsManNames.WsMan
                ? null
                : reader.GetAttribute("Name", string.Empty);
            if (string.IsNullOrEmpty(name))
            {
                content.HasMalformedSelector = true;
                reader.Skip();
                continue;
            }
            var selectors = content.Selectors ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            content.HasMalformedSelector = !selectors.TryAdd(name, ReadText(reader, state).ToString());
        }
    }

    private static void ReadBody(XmlReader reader, EnvelopeContent content, ThreadReader state)
    {
        var depth = reader.Depth;
        if (!EnterContent(reader))
        {
            return;
        }
        while (NextChildElement(reader, depth))
        {
            if (content.BodyElement is null)
            {
                content.BodyElement = ReadBodyElement(reader, state);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static RequestBodyElement ReadBodyElement(XmlReader reader, ThreadReader state)
    {
        var localName = reader.LocalName;
        var ns = reader.NamespaceURI;
        var depth = reader.Depth;
        if (!EnterContent(reader))
        {
            return new RequestBodyElement(localName, ns, []);
        }
        var children = new List<RequestBodyChild>();
        while (NextChildElement(reader, depth))
        {
            var childName = reader.LocalName;
            var childNs = reader.NamespaceURI;
            var isNil = reader.GetAttribute("nil", WsManNames.Xsi) == "true";
            var dialect = reader.GetAttribute("Dialect", string.Empty);
            children.Add(new RequestBodyChild(childName, childNs, ReadText(reader, state).ToString(), isNil, dialect));
        }
        return new RequestBodyElement(localName, ns, children);
    }

    private static bool IsSoap(XmlReader reader, string localName) =>
        reader.NodeType == XmlNodeType.Element && reader.LocalName == localName && reader.NamespaceURI == WsManNames.Soap;

    /// <summary>From a start tag to its first child node; false, and past the element, for an empty element.</summary>
    private static bool EnterContent(XmlReader reader)
    {
        var empty = reader.IsEmptyElement;
        reader.Read();
        return !empty;
    }

    /// <summary>
    /// To the next child element of the element at <paramref name="parentDepth"/>, stepping over text, or
    /// past the parent's end tag (false). The caller must consume each child it is given (read or skip it).
    /// </summary>
    private static bool NextChildElement(XmlReader reader, int parentDepth)
    {
        while (reader.Depth > parentDepth)
        {
            if (reader.NodeType == XmlNodeType.Element)
            {
                return true;
            }
            reader.Read();
        }
        reader.Read();
        return false;
    }

    /// <summary>
    /// All the text inside the element the reader is on, nested elements' included (what <c>XElement.Value</c>
    /// gives), leaving the reader past the element. The span is the thread's buffer: use it before reading on.
    /// </summary>
    private static ReadOnlySpan<char> ReadText(XmlReader reader, ThreadReader state)
    {
        var depth = reader.Depth;
        var length = 0;
        if (!EnterContent(reader))
        {
            return [];
        }
        while (reader.Depth > depth)
        {
            if (reader.NodeType is XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace or XmlNodeType.Whitespace)
            {
                int read;
                do
                {
                    state.EnsureRoom(length);
                    read = reader.ReadValueChunk(state.Text, length, state.Text.Length - length);
                    length += read;
                }
                while (read > 0);
            }
            reader.Read();
        }
        reader.Read();
        return state.Text.AsSpan(0, length);
    }
}
