namespace ProvisioningFleet.Simulator.Cim;

/// <summary>A WMI resource URI split into namespace and class (<c>*</c> for "the namespace", used with WQL).</summary>
internal readonly record struct ResourceUri(string Namespace, string ClassName)
{
    private const string Prefix = "http://schemas.microsoft.com/wbem/wsman/1/wmi/";

    public bool IsWildcard => ClassName == "*";

    public static string For(string @namespace, string className) => Prefix + @namespace + "/" + className;

    public static bool TryParse(string? uri, out ResourceUri resource)
    {
        resource = default;
        if (uri is null || !uri.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var path = uri[Prefix.Length..];
        var slash = path.LastIndexOf('/');
        if (slash <= 0 || slash == path.Length - 1)
        {
            return false;
        }
        resource = new ResourceUri(path[..slash], path[(slash + 1)..]);
        return true;
    }

    public override string ToString() => For(Namespace, ClassName);
}
