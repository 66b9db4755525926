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
    /// <summary>Room for the envelope around a body: its namespaces and headers come to some 700 characters.</summary>
    private const int EnvelopeLength = 1024;

    /// <summary>Envelopes up to this many characters are written in the thread's kept builder; larger ones in their own.</summary>
    private const int MaxKeptEnvelopeLength = 32 * 1024;

    private const string EnvelopeEnd = "</s:Body></s:Envelope>";

    [ThreadStatic]
    private static StringBuilder? _keptEnvelope;

    public static string Envelope(string action, string? relatesTo, string body) =>
        Finish(StartEnvelope(action, relatesTo, body.Length).Append(body));

    /// <summary>The same, copying the body from the builder it was written in rather than from a string made of it.</summary>
    public static string Envelope(string action, string? relatesTo, StringBuilder body) =>
        Finish(StartEnvelope(action, relatesTo, body.Length).Append(body));

    private static string Finish(StringBuilder envelope)
    {
        var text = envelope.Append(EnvelopeEnd).ToString();
        if (envelope.Capacity <= MaxKeptEnvelopeLength)
        {
            _keptEnvelope = envelope;
        }
        return text;
    }

    private static StringBuilder StartEnvelope(string action, string? relatesTo, int bodyLength)
    {
        Span<char> messageId = stackalloc char[36];
        Guid.NewGuid().TryFormat(messageId, out _);
        Ascii.ToUpperInPlace(messageId, out _);

        var capacity = EnvelopeLength + bodyLength;
        StringBuilder sb;
        if (capacity <= MaxKeptEnvelopeLength && _keptEnvelope is { } kept)
        {
            _keptEnvelope = null;
            sb = kept.Clear();
            sb.EnsureCapacity(capacity);
        }
        else
        {
            sb = new StringBuilder(capacity);
        }
        sb.Append("<s:Envelope xml:lang=\"en-US\" xmlns:s=\"").Append(WsManNames.Soap)
          .Append("\" xmlns:a=\"").Append(WsManNames.Addressing)
          .Append("\" xmlns:x=\"").Append(WsManNames.Transfer)
          .Append("\" xmlns:n=\"").Append(WsManNames.Enumeration)
          .Append("\" xmlns:w=\"").Append(WsManNames.WsMan)
          .Append("\" xmlns:xsi=\"").Append(WsManNames.Xsi)
          .Append("\"><s:Header><a:Action>").Append(Escape(action))
          .Append("</a:Action><a:MessageID>uuid:").Append(messageId)
          .Append("</a:MessageID><a:To>").Append(WsManNames.Anonymous).Append("</a:To>");
        if (relatesTo is not null)
        {
            sb.Append("<a:RelatesTo>").Append(Escape(relatesTo)).Append("</a:RelatesTo>");
        }
        return sb.Append("</s:Header><s:Body>");
    }

    /// <summary>
    /// A fault as Windows writes it. A WMI failure carries its WMI error as a number only when the request
    /// asked for <c>msftwinrm:UsePreciseErrorCodes</c> (an <c>MSFT_WmiError</c> instance in the detail);
    /// otherwise only the text of the WSManFault names it, inside the coarse outer code.
    /// </summary>
    public static string Fault(WsManFaultException fault, string? relatesTo, string machine, bool preciseErrorCodes)
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
        var reason = fault.WmiCode is { } wmiCode ? WmiErrors.Summary(wmiCode) : fault.Reason;
        body.Append("</s:Code><s:Reason><s:Text xml:lang=\"en-US\">")
            .Append(Escape(reason)).Append("</s:Text></s:Reason><s:Detail>");
        if (fault.WmiCode is { } precise && preciseErrorCodes)
        {
            AppendWmiError(body, precise, fault.Reason);
        }
        if (fault.FaultDetail is not null)
        {
            body.Append("<w:FaultDetail>").Append(Escape(fault.FaultDetail)).Append("</w:FaultDetail>");
        }
        body.Append("<f:WSManFault xmlns:f=\"").Append(WsManNames.WsManFault).Append("\" Code=\"").Append(fault.WsManCode)
            .Append("\" Machine=\"").Append(Escape(machine)).Append("\"><f:Message>");
        body.Append(Escape(reason));
        body.Append("</f:Message></f:WSManFault></s:Detail></s:Fault>");
        var action = fault.SubcodeNamespace == WsManNames.Addressing ? WsManNames.AddressingFaultAction : WsManNames.FaultAction;
        return Envelope(action, relatesTo, body);
    }

    private static void AppendWmiError(StringBuilder body, uint wmiCode, string providerMessage)
    {
        var hresult = $"HRESULT 0x{wmiCode:x8}";
        body.Append("<p:MSFT_WmiError b:IsCIM_Error=\"true\" xmlns:b=\"http://schemas.microsoft.com/wbem/wsman/1/wsmb\" xmlns:p=\"")
            .Append(WsManNames.WmiResourcePrefix).Append("root/cimv2/MSFT_WmiError\" xmlns:cim=\"").Append(WsManNames.Cim)
            .Append("\" xsi:type=\"p:MSFT_WmiError_Type\">")
            .Append("<p:CIMStatusCode xsi:type=\"cim:cimUnsignedInt\">").Append(WmiErrors.CimStatusCode(wmiCode)).Append("</p:CIMStatusCode>")
            .Append("<p:CIMStatusCodeDescription xsi:type=\"cim:cimString\" xsi:nil=\"true\"/>")
            .Append("<p:ErrorSource xsi:type=\"cim:cimString\" xsi:nil=\"true\"/>")
            .Append("<p:ErrorSourceFormat xsi:type=\"cim:cimUnsignedShort\">0</p:ErrorSourceFormat>")
            .Append("<p:ErrorType xsi:type=\"cim:cimUnsignedShort\">0</p:ErrorType>")
            .Append("<p:Message xsi:type=\"cim:cimString\">").Append(Escape(providerMessage)).Append(" </p:Message>")
            .Append("<p:MessageID xsi:type=\"cim:cimString\">").Append(hresult).Append("</p:MessageID>")
            .Append("<p:OtherErrorSourceFormat xsi:type=\"cim:cimString\" xsi:nil=\"true\"/>")
            .Append("<p:OtherErrorType xsi:type=\"cim:cimString\" xsi:nil=\"true\"/>")
            .Append("<p:OwningEntity xsi:type=\"cim:cimString\" xsi:nil=\"true\"/>")
            .Append("<p:PerceivedSeverity xsi:type=\"cim:cimUnsignedShort\">0</p:PerceivedSeverity>")
            .Append("<p:ProbableCause xsi:type=\"cim:cimUnsignedShort\">0</p:ProbableCause>")
            .Append("<p:ProbableCauseDescription xsi:type=\"cim:cimString\" xsi:nil=\"true\"/>")
            .Append("<p:error_Category xsi:type=\"cim:cimUnsignedShort\">0</p:error_Category>")
            .Append("<p:error_Code xsi:type=\"cim:cimUnsignedInt\">").Append(wmiCode).Append("</p:error_Code>")
            .Append("<p:error_Type xsi:type=\"cim:cimString\">HRESULT</p:error_Type>")
            .Append("<p:error_WindowsErrorMessage xsi:type=\"cim:cimString\">").Append(Escape(providerMessage)).Append(" </p:error_WindowsErrorMessage>")
            .Append("</p:MSFT_WmiError>");
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
