using System.Globalization;
using System.Text;
using ProvisioningFleet.Simulator.Cim;
using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>Answers one parsed request for one device: Identify, Get, Enumerate, Pull, Release, Invoke.</summary>
internal sealed class WsManDispatcher(EnumerationContexts enumerations, bool recordReads)
{
    private const string InputSuffix = "_INPUT";

    public string Dispatch(WsManRequest request, SimulatedDevice device)
    {
        if (request.IsIdentify)
        {
            return Identify();
        }

        var action = request.Action!;
        return action switch
        {
            WsManNames.GetAction => Get(request, device),
            WsManNames.EnumerateAction => Enumerate(request, device),
            WsManNames.PullAction => Pull(request, device),
            WsManNames.ReleaseAction => Release(request, device),
            _ when request.ResourceUri is { } uri && IsMethodOf(action, uri) => Invoke(request, device, action[(uri.Length + 1)..]),
            _ when action.StartsWith(WsManNames.WmiResourcePrefix, StringComparison.OrdinalIgnoreCase) => throw new WsManFaultException(
                true, WsManNames.WsMan, "ActionMismatch", 0x80338031,
                "The WS-Management service cannot process the request because the WS-Addressing Action URI in the request is not compatible with the resource."),
            _ => throw WsManFaults.ActionNotSupported(action),
        };
    }

    /// <summary>The action is the resource URI, a slash, then a method name (possibly empty).</summary>
    private static bool IsMethodOf(string action, string resourceUri) =>
        action.Length > resourceUri.Length && action[resourceUri.Length] == '/' && action.StartsWith(resourceUri, StringComparison.Ordinal);

    private static string Identify() =>
        "<s:Envelope xmlns:s=\"" + WsManNames.Soap + "\"><s:Header/><s:Body><wsmid:IdentifyResponse xmlns:wsmid=\"" + WsManNames.Identity + "\">"
        + "<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion>"
        + "<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>"
        + "<wsmid:ProductVersion>OS: 10.0.22631 SP: 0.0 Stack: 3.0</wsmid:ProductVersion>"
        + "<wsmid:SecurityProfiles><wsmid:SecurityProfileName>http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos</wsmid:SecurityProfileName></wsmid:SecurityProfiles>"
        + "</wsmid:IdentifyResponse></s:Body></s:Envelope>";

    private static ResourceUri Resource(WsManRequest request) =>
        Cim.ResourceUri.TryParse(request.ResourceUri, out var resource) ? resource : throw WsManFaults.InvalidResourceUri(request.ResourceUri ?? string.Empty);

    private static string Get(WsManRequest request, SimulatedDevice device)
    {
        var resource = Resource(request);
        if (resource.IsWildcard)
        {
            throw WsManFaults.InvalidResourceUri(request.ResourceUri!);
        }
        var instance = ConfigMgrClientCim.Get(device, resource.Namespace, resource.ClassName, request.Selectors);
        var body = new StringBuilder(1024);
        SoapWriter.AppendInstance(body, instance);
        return SoapWriter.Envelope(WsManNames.Transfer + "/GetResponse", request.MessageId, body);
    }

    private string Enumerate(WsManRequest request, SimulatedDevice device)
    {
        var resource = Resource(request);
        var enumerate = request.BodyElement;
        if (enumerate?.Is(WsManNames.Enumeration, "Enumerate") != true)
        {
            throw WsManFaults.InvalidBody("An Enumerate action needs an n:Enumerate body.");
        }
        if (enumerate.Child(WsManNames.WsMan, "EnumerationMode") is { } mode)
        {
            throw new WsManFaultException(true, WsManNames.WsMan, "UnsupportedFeature", 0x80338018,
                $"The simulator does not support enumeration mode {mode.Text}.",
                faultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/EnumerationMode");
        }

        var instances = Query(device, resource, enumerate.Child(WsManNames.WsMan, "Filter") ?? enumerate.Child(WsManNames.Enumeration, "Filter"));
        var items = instances.Select(instance =>
        {
            var sb = new StringBuilder(512);
            SoapWriter.AppendInstance(sb, instance);
            return sb.ToString();
        }).ToList();

        var optimize = enumerate.Child(WsManNames.WsMan, "OptimizeEnumeration") is not null;
        var maxElements = optimize ? MaxElements(enumerate.Child(WsManNames.WsMan, "MaxElements")) : 0;
        var first = items.Take(maxElements).ToList();
        var rest = items.Skip(first.Count).ToList();

        var body = new StringBuilder(1024).Append("<n:EnumerateResponse>");
        if (rest.Count > 0 || !optimize)
        {
            body.Append("<n:EnumerationContext>").Append(enumerations.Open(device.HostName, rest)).Append("</n:EnumerationContext>");
        }
        if (optimize)
        {
            body.Append("<w:Items>");
            first.ForEach(item => body.Append(item));
            body.Append("</w:Items>");
            if (rest.Count == 0)
            {
                body.Append("<w:EndOfSequence/>");
            }
        }
        body.Append("</n:EnumerateResponse>");
        return SoapWriter.Envelope(WsManNames.Enumeration + "/EnumerateResponse", request.MessageId, body);
    }

    private static IEnumerable<SimInstance> Query(SimulatedDevice device, ResourceUri resource, RequestBodyChild? filter)
    {
        if (filter is null)
        {
            if (resource.IsWildcard)
            {
                throw new WsManFaultException(true, WsManNames.WsMan, "InvalidResourceURI", WsManFaults.InvalidUri,
                    "An enumeration of a namespace (ResourceURI ending in *) needs a WQL filter.");
            }
            return ConfigMgrClientCim.Instances(device, resource.Namespace, resource.ClassName);
        }

        var dialect = filter.Dialect;
        if (dialect != WsManNames.WqlDialect)
        {
            throw new WsManFaultException(true, WsManNames.Enumeration, "FilterDialectRequestedUnavailable", 0x80338019,
                $"The filter dialect '{dialect}' is not supported; use {WsManNames.WqlDialect}.",
                faultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/FilterDialect");
        }
        WqlQuery query;
        try
        {
            query = WqlQuery.Parse(filter.Text);
        }
        catch (FormatException ex)
        {
            throw WsManFaults.Wmi(WsManFaults.WbemInvalidQuery, $"Invalid query: {ex.Message}");
        }
        if (!resource.IsWildcard && !string.Equals(resource.ClassName, query.ClassName, StringComparison.OrdinalIgnoreCase))
        {
            throw WsManFaults.Wmi(WsManFaults.WbemInvalidQuery, "The class in the query is not the class of the resource URI.");
        }
        var instances = ConfigMgrClientCim.Instances(device, resource.Namespace, query.ClassName);
        var schema = ConfigMgrClientCim.PropertiesOf(query.ClassName);
        var unknown = query.Referenced.FirstOrDefault(p => !schema.Contains(p, StringComparer.OrdinalIgnoreCase));
        if (unknown is not null)
        {
            throw WsManFaults.Wmi(WsManFaults.WbemInvalidQuery, $"Invalid query: {query.ClassName} has no property {unknown}.");
        }
        var matching = instances.Where(query.Matches);
        return query.Properties is { } selected ? matching.Select(i => i.Select(selected)) : matching;
    }

    private static int MaxElements(RequestBodyChild? element)
    {
        if (element is null)
        {
            return 1;
        }
        return int.TryParse(element.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max > 0
            ? max
            : throw WsManFaults.InvalidBody("MaxElements must be a positive integer.");
    }

    private string Pull(WsManRequest request, SimulatedDevice device)
    {
        var pull = request.BodyElement;
        var context = pull?.Is(WsManNames.Enumeration, "Pull") == true ? pull.Child(WsManNames.Enumeration, "EnumerationContext")?.Text.Trim() : null;
        if (string.IsNullOrEmpty(context))
        {
            throw WsManFaults.InvalidBody("A Pull needs n:Pull with an n:EnumerationContext.");
        }
        var (items, end) = enumerations.Pull(device.HostName, context, MaxElements(pull!.Child(WsManNames.Enumeration, "MaxElements")));
        var body = new StringBuilder(1024).Append("<n:PullResponse>");
        if (!end)
        {
            body.Append("<n:EnumerationContext>").Append(SoapWriter.Escape(context)).Append("</n:EnumerationContext>");
        }
        body.Append("<n:Items>");
        foreach (var item in items)
        {
            body.Append(item);
        }
        body.Append("</n:Items>");
        if (end)
        {
            body.Append("<n:EndOfSequence/>");
        }
        body.Append("</n:PullResponse>");
        return SoapWriter.Envelope(WsManNames.Enumeration + "/PullResponse", request.MessageId, body);
    }

    private string Release(WsManRequest request, SimulatedDevice device)
    {
        var release = request.BodyElement;
        var context = release?.Is(WsManNames.Enumeration, "Release") == true ? release.Child(WsManNames.Enumeration, "EnumerationContext")?.Text.Trim() : null;
        if (string.IsNullOrEmpty(context))
        {
            throw WsManFaults.InvalidBody("A Release needs n:Release with an n:EnumerationContext.");
        }
        enumerations.Release(device.HostName, context);
        return SoapWriter.Envelope(WsManNames.Enumeration + "/ReleaseResponse", request.MessageId, string.Empty);
    }

    private string Invoke(WsManRequest request, SimulatedDevice device, string method)
    {
        var resource = Resource(request);
        if (resource.IsWildcard || method.Length == 0 || method.Contains('/'))
        {
            throw WsManFaults.ActionNotSupported(request.Action!);
        }
        if (request.HasSelectorSet)
        {
            // StdRegProv and SMS_Client methods are static: Windows refuses an instance path on them.
            throw WsManFaults.InvalidSelectors($"{resource.ClassName}.{method} is a static method; a static call has no SelectorSet.", "UnexpectedSelectors");
        }

        var input = request.BodyElement;
        var classNs = request.ResourceUri!;
        if (input is null || input.Namespace != classNs || !IsInputOf(input.LocalName, method))
        {
            throw WsManFaults.InvalidBody(
                $"The body must be p:{method}_INPUT in the class namespace {request.ResourceUri}; got {input?.ToString() ?? "nothing"}.");
        }
        var arguments = new Dictionary<string, string?>(input.Children.Count, StringComparer.Ordinal);
        foreach (var parameter in input.Children)
        {
            if (parameter.Namespace != classNs)
            {
                throw WsManFaults.InvalidBody($"Parameter {parameter} is not in the class namespace {request.ResourceUri}.");
            }
            if (!arguments.TryAdd(parameter.LocalName, parameter.IsNil ? null : parameter.Text))
            {
                throw WsManFaults.Wmi(WsManFaults.WbemInvalidMethodParameters, $"Parameter {parameter.LocalName} is given twice.");
            }
        }

        var (ns, cls) = ConfigMgrClientCim.Resolve(device, resource.Namespace, resource.ClassName);
        if (recordReads || cls != "StdRegProv")
        {
            device.Record(new InvocationRecord(device.InvocationTime(), device.HostName, ns, cls, method, arguments));
        }
        var output = ConfigMgrClientCim.Invoke(device, ns, cls, method, arguments);

        var body = new StringBuilder(512);
        body.Append("<p:").Append(method).Append("_OUTPUT xmlns:p=\"").Append(SoapWriter.Escape(request.ResourceUri!)).Append("\">");
        SoapWriter.AppendProperties(body, output);
        body.Append("</p:").Append(method).Append("_OUTPUT>");
        return SoapWriter.Envelope(request.Action + "Response", request.MessageId, body);
    }

    private static bool IsInputOf(string elementName, string method) =>
        elementName.Length == method.Length + InputSuffix.Length
        && elementName.StartsWith(method, StringComparison.Ordinal)
        && elementName.EndsWith(InputSuffix, StringComparison.Ordinal);
}
