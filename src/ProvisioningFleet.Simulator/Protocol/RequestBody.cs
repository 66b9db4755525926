namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>
/// The operation element of a request (the first element inside <c>s:Body</c>: <c>n:Enumerate</c>,
/// <c>n:Pull</c>, <c>p:Method_INPUT</c>...) with its child elements, as far as the dispatcher reads them.
/// </summary>
internal sealed class RequestBodyElement(string localName, string namespaceUri, IReadOnlyList<RequestBodyChild> children)
{
    public string LocalName { get; } = localName;
    public string Namespace { get; } = namespaceUri;
    public IReadOnlyList<RequestBodyChild> Children { get; } = children;

    public bool Is(string namespaceUri, string localName) => LocalName == localName && Namespace == namespaceUri;

    /// <summary>The first child of that name; later ones of the same name are not looked at.</summary>
    public RequestBodyChild? Child(string namespaceUri, string localName)
    {
        foreach (var child in Children)
        {
            if (child.Is(namespaceUri, localName))
            {
                return child;
            }
        }
        return null;
    }

    public override string ToString() => ExpandedName(Namespace, LocalName);

    /// <summary>A name as faults quote it: <c>{namespace}local</c>, or the bare local name outside any namespace.</summary>
    public static string ExpandedName(string namespaceUri, string localName) =>
        namespaceUri.Length == 0 ? localName : "{" + namespaceUri + "}" + localName;
}

/// <summary>
/// A child element of the operation element: a method parameter, a filter, an enumeration option.
/// <see cref="Text"/> is all the text inside it, nested elements' included, as <c>XElement.Value</c> gives it.
/// </summary>
internal sealed class RequestBodyChild(string localName, string namespaceUri, string text, bool isNil, string? dialect)
{
    public string LocalName { get; } = localName;
    public string Namespace { get; } = namespaceUri;
    public string Text { get; } = text;

    /// <summary><c>xsi:nil="true"</c>: a parameter given as null.</summary>
    public bool IsNil { get; } = isNil;

    /// <summary>The unqualified <c>Dialect</c> attribute, which only a filter carries.</summary>
    public string? Dialect { get; } = dialect;

    public bool Is(string namespaceUri, string localName) => LocalName == localName && Namespace == namespaceUri;

    public override string ToString() => RequestBodyElement.ExpandedName(Namespace, LocalName);
}
