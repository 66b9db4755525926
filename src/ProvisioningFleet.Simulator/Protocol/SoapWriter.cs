using System.Collections;
using System.Security;
using System.Text;
using ProvisioningFleet.Simulator.Cim;

namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>
/// Writes reply envelopes the way Windows lays them out: prefixes s, a, w, p, a fresh MessageID,
/// RelatesTo the request's MessageID, To the anonymous role.
/// </summary>
internal static class SoapWriter
{
    public static string Envelope(string action, string? relatesTo, string body)
    {
        var sb = new StringBuilder(512 + body.Length);
        sb.Append("<s:Envelope xml:lang=\"en-US\" xmlns:s=\"").Append(WsManNames.Soap)
          .Append("\" xmlns:a=\"").Append(WsManNames.Addressing)
          .Append("\" xmlns:x=\"").Append(WsManNames.Transfer)
          .Append("\" xmlns:n=\"").Append(WsManNames.Enumeration)
          .Append("\" xmlns:w=\"").Append(WsManNames.WsMan)
          .Append("\" xmlns:xsi=\"").Append(WsManNames.Xsi)
          .Append("\"><s:Header><a:Action>").Append(Escape(action))
          .Append("</a:Action><a:MessageID>uuid:").Append(Guid.NewGuid().ToString().ToUpperInvariant())
          .Append("</a:MessageID><a:To>").Append(WsManNames.Anonymous).Append("</a:To>");
        if (relatesTo is not null)
        {
            sb.Append("<a:RelatesTo>").Append(Escape(relatesTo)).Append("</a:RelatesTo>");
        }
        sb.Append("</s:Header><s:Body>").Append(body).Append("</s:Body></s:Envelope>");
        return sb.ToString();
    }

    public static string Fault(WsManFaultException fault, string? relatesTo, string machine)
    {
        var body = new StringBuilder(1024);
        body.Append("<s:Fault><s:Code><s:Value>");
        if (fault.SubcodeNamespace == WsManNames.Soap)
        {
            // SOAP 1.2's own faults (VersionMismatch, MustUnderstand) are top-level codes without a subcode.
            body.Append("s:").Append(fault.Subcode).Append("</s:Value>");
        }
        else
        {
            body.Append(fault.Sender ? "s:Sender" : "s:Receiver")
                .Append("</s:Value><s:Subcode><s:Value>").Append(PrefixOf(fault.SubcodeNamespace)).Append(':')
                .Append(fault.Subcode).Append("</s:Value></s:Subcode>");
        }
        body.Append("</s:Code><s:Reason><s:Text xml:lang=\"en-US\">")
            .Append(Escape(fault.Reason)).Append("</s:Text></s:Reason><s:Detail>");
        if (fault.FaultDetail is not null)
        {
            body.Append("<w:FaultDetail>").Append(Escape(fault.FaultDetail)).Append("</w:FaultDetail>");
        }
        body.Append("<f:WSManFault xmlns:f=\"").Append(WsManNames.WsManFault).Append("\" Code=\"").Append(fault.WsManCode)
            .Append("\" Machine=\"").Append(Escape(machine)).Append("\"><f:Message>");
        if (fault.WmiCode is { } wmi)
        {
            body.Append("<f:ProviderFault provider=\"WMI Provider\" path=\"%systemroot%\\system32\\WsmWmiPl.dll\"><f:WSManFault Code=\"")
                .Append(wmi).Append("\" Machine=\"").Append(Escape(machine)).Append("\"><f:Message>").Append(Escape(fault.Reason))
                .Append(" </f:Message></f:WSManFault><f:ExtendedError><p:__ExtendedStatus xmlns:p=\"")
                .Append(WsManNames.WmiResourcePrefix).Append("root/cimv2/__ExtendedStatus\" xsi:type=\"p:__ExtendedStatus_Type\"><p:Description xsi:nil=\"true\"/><p:Operation>")
                .Append("ExecQuery</p:Operation><p:ProviderName>WinMgmt</p:ProviderName><p:StatusCode>").Append(wmi)
                .Append("</p:StatusCode></p:__ExtendedStatus></f:ExtendedError></f:ProviderFault>");
        }
        else
        {
            body.Append(Escape(fault.Reason));
        }
        body.Append("</f:Message></f:WSManFault></s:Detail></s:Fault>");
        var action = fault.SubcodeNamespace == WsManNames.Addressing ? WsManNames.AddressingFaultAction : WsManNames.FaultAction;
        return Envelope(action, relatesTo, body.ToString());
    }

    /// <summary>An instance as a CIM class element (<c>p:Class</c> in the class's resource URI namespace).</summary>
    public static void AppendInstance(StringBuilder sb, SimInstance instance)
    {
        var uri = ResourceUri.For(instance.Namespace, instance.ClassName);
        sb.Append("<p:").Append(instance.ClassName).Append(" xmlns:p=\"").Append(uri)
          .Append("\" xmlns:cim=\"").Append(WsManNames.Cim).Append("\" xsi:type=\"p:").Append(instance.ClassName).Append("_Type\">");
        AppendProperties(sb, instance.Properties);
        sb.Append("</p:").Append(instance.ClassName).Append('>');
    }

    /// <summary>Properties or method outputs: arrays as repeated elements, nulls as <c>xsi:nil</c>.</summary>
    public static void AppendProperties(StringBuilder sb, IEnumerable<KeyValuePair<string, object?>> properties)
    {
        foreach (var (name, value) in properties)
        {
            if (value is null)
            {
                sb.Append("<p:").Append(name).Append(" xsi:nil=\"true\"/>");
            }
            else if (value is not string && value is IEnumerable items)
            {
                foreach (var item in items)
                {
                    AppendScalar(sb, name, item);
                }
            }
            else
            {
                AppendScalar(sb, name, value);
            }
        }
    }

    private static void AppendScalar(StringBuilder sb, string name, object? value)
    {
        sb.Append("<p:").Append(name);
        if (value is null)
        {
            sb.Append(" xsi:nil=\"true\"/>");
            return;
        }
        sb.Append('>');
        if (value is CimDatetime datetime)
        {
            sb.Append("<cim:Datetime>").Append(datetime.ToString()).Append("</cim:Datetime>");
        }
        else
        {
            sb.Append(Escape(SimInstance.FormatScalar(value)));
        }
        sb.Append("</p:").Append(name).Append('>');
    }

    private static string PrefixOf(string ns) => ns switch
    {
        WsManNames.Addressing => "a",
        WsManNames.Enumeration => "n",
        _ => "w",
    };

    public static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;
}
