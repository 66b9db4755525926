using System.Globalization;
using System.Text;
using System.Xml;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Protocol;

/// <summary>
/// Sorts a SOAP fault into a contract category. The outer WS-Man code is coarse (2150858778 covers
/// many WMI provider failures), so the innermost code wins: nested <c>WSManFault Code</c>s,
/// <c>__ExtendedStatus.StatusCode</c> and <c>MSFT_WmiError</c>/<c>CIM_Error.error_Code</c> are all
/// collected in document order, outermost first. Windows sends the WMI error as a number only when the
/// request asked for precise error codes; otherwise the fault names it only in text ("The WMI service
/// returned an 'invalid namespace' error."), so without a deciding number the CIM status code and then
/// the text decide.
/// </summary>
internal static class WsManFaultReader
{
    private const long WbemInvalidNamespace = 0x8004100E;
    private const long WbemInvalidClass = 0x80041010;
    private const long WbemAccessDenied = 0x80041003;
    private const long Win32AccessDenied = 5;
    private const long HResultAccessDenied = 0x80070005;

    // DSP0004's CIM status codes, carried by CIM_Error.CIMStatusCode: a different number space from the HRESULTs above.
    private const long CimAccessDenied = 2;
    private const long CimInvalidNamespace = 3;
    private const long CimInvalidClass = 5;

    /// <summary>The phrases Windows' WMI plug-in writes for the WMI errors that decide a verdict, in any message of the fault.</summary>
    private static readonly (string Phrase, CimErrorCategory Category)[] DecidingPhrases =
    [
        ("invalid namespace", CimErrorCategory.NotFound),
        ("invalid class", CimErrorCategory.NotFound),
        ("access denied", CimErrorCategory.AccessDenied),
    ];

    /// <summary>Reads the <c>s:Fault</c> element under the reader.</summary>
    public static CimException Read(XmlReader r)
    {
        var codes = new List<long>();
        var wmiCodes = new List<long>();
        var cimStatusCodes = new List<long>();
        var texts = new List<string>();
        string? subcode = null;
        string? reason = null;
        string? innermostMessage = null;
        var depth = r.Depth;
        var inSubcode = false;
        r.Read();
        while (r.Depth > depth)
        {
            if (r.Depth > depth + 48)
            {
                throw WsManReply.Protocol("The fault nests elements too deeply.");
            }

            if (r.NodeType != XmlNodeType.Element)
            {
                r.Read();
                continue;
            }

            switch (r.LocalName)
            {
                case "Subcode" when r.NamespaceURI == WsManNames.Soap:
                    inSubcode = true;
                    r.Read();
                    break;
                case "Value" when r.NamespaceURI == WsManNames.Soap:
                    var value = r.ReadElementContentAsString().Trim();
                    if (inSubcode)
                    {
                        subcode = value[(value.IndexOf(':') + 1)..];
                    }

                    break;
                case "Text" when r.NamespaceURI == WsManNames.Soap:
                    var reasonText = r.ReadElementContentAsString().Trim();
                    reason ??= reasonText;
                    texts.Add(reasonText);
                    break;
                case "WSManFault":
                    if (TryParseCode(r.GetAttribute("Code"), out var code))
                    {
                        codes.Add(code);
                    }

                    r.Read();
                    break;
                case "Message" when r.NamespaceURI == WsManNames.WsManFault:
                    var message = ReadOwnText(r);
                    if (!string.IsNullOrWhiteSpace(message))
                    {
                        innermostMessage = message.Trim();
                        texts.Add(innermostMessage);
                    }

                    break;
                case "Message" or "error_WindowsErrorMessage":
                    // MSFT_WmiError's own message properties.
                    var errorText = ReadOwnText(r);
                    if (!string.IsNullOrWhiteSpace(errorText))
                    {
                        texts.Add(errorText.Trim());
                    }

                    break;
                case "CIMStatusCode":
                    if (TryParseCode(r.ReadElementContentAsString(), out var cimStatus))
                    {
                        cimStatusCodes.Add(cimStatus);
                    }

                    break;
                case "StatusCode" or "error_Code":
                    if (TryParseCode(r.ReadElementContentAsString(), out var statusCode))
                    {
                        codes.Add(statusCode);
                        wmiCodes.Add(statusCode);
                    }

                    break;
                default:
                    r.Read();
                    break;
            }
        }

        // The WMI error's own number (MSFT_WmiError/CIM_Error, __ExtendedStatus) outranks WSManFault codes wherever
        // it stands in the detail: Windows may put the MSFT_WmiError before the coarse WSManFault.
        var ranked = codes.Except(wmiCodes).Concat(wmiCodes).ToList();
        return Decide(ranked, codes, cimStatusCodes, texts, subcode, reason, innermostMessage);
    }

    private static CimException Decide(
        List<long> ranked, List<long> codes, List<long> cimStatusCodes, List<string> texts, string? subcode, string? reason, string? innermostMessage)
    {
        CimErrorCategory? category = null;
        long? decidingCode = null;
        for (var i = ranked.Count - 1; i >= 0 && category is null; i--)
        {
            category = ranked[i] switch
            {
                WbemInvalidNamespace or WbemInvalidClass => CimErrorCategory.NotFound,
                WbemAccessDenied or Win32AccessDenied or HResultAccessDenied => CimErrorCategory.AccessDenied,
                _ => null,
            };
            if (category is not null)
            {
                decidingCode = ranked[i];
            }
        }

        string? decidedBy = null;
        for (var i = cimStatusCodes.Count - 1; i >= 0 && category is null; i--)
        {
            category = cimStatusCodes[i] switch
            {
                CimInvalidNamespace or CimInvalidClass => CimErrorCategory.NotFound,
                CimAccessDenied => CimErrorCategory.AccessDenied,
                _ => null,
            };
            if (category is not null)
            {
                decidedBy = string.Create(CultureInfo.InvariantCulture, $"CIM status {cimStatusCodes[i]}");
            }
        }

        if (category is null && FromText(texts) is { } byText)
        {
            category = byText.Category;
            decidedBy = $"the message text: '{byText.Phrase}'";
        }

        category ??= subcode switch
        {
            "AccessDenied" => CimErrorCategory.AccessDenied,
            "TimedOut" => CimErrorCategory.Timeout,
            _ => CimErrorCategory.Fault,
        };
        decidingCode ??= ranked.Count > 0 ? ranked[^1] : null;

        var text = new StringBuilder(innermostMessage ?? reason ?? "The server returned a WS-Management fault.");
        if (codes.Count > 0)
        {
            text.Append(" (codes ");
            for (var i = 0; i < codes.Count; i++)
            {
                text.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"{codes[i]} (0x{codes[i]:X8})");
            }

            text.Append(')');
        }

        if (subcode is not null)
        {
            text.Append(" [").Append(subcode).Append(']');
        }

        if (decidedBy is not null)
        {
            text.Append(" (decided by ").Append(decidedBy).Append(')');
        }

        return new CimException(category.Value, text.ToString(), decidingCode);
    }

    private static (string Phrase, CimErrorCategory Category)? FromText(List<string> texts)
    {
        // Innermost first: the provider's own words outrank the service's summary.
        for (var i = texts.Count - 1; i >= 0; i--)
        {
            foreach (var (phrase, category) in DecidingPhrases)
            {
                if (texts[i].Contains(phrase, StringComparison.OrdinalIgnoreCase))
                {
                    return (phrase, category);
                }
            }
        }

        return null;
    }

    /// <summary>The text directly inside an element, skipping nested elements such as a ProviderFault.</summary>
    private static string ReadOwnText(XmlReader r)
    {
        if (r.IsEmptyElement)
        {
            r.Read();
            return string.Empty;
        }

        var depth = r.Depth;
        var text = new StringBuilder();
        r.Read();
        while (r.Depth > depth)
        {
            if (r.NodeType is XmlNodeType.Text or XmlNodeType.CDATA)
            {
                text.Append(r.Value);
                r.Read();
            }
            else if (r.NodeType == XmlNodeType.Element)
            {
                // Nested faults carry their own messages and codes; read them as part of the fault.
                return text.Length > 0 ? text.ToString() : string.Empty;
            }
            else
            {
                r.Read();
            }
        }

        r.Read();
        return text.ToString();
    }

    private static bool TryParseCode(string? text, out long code)
    {
        code = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return long.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out code);
        }

        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out code))
        {
            // Some providers write HRESULTs as signed 32-bit numbers.
            if (code is < 0 and >= int.MinValue)
            {
                code = (uint)(int)code;
            }

            return true;
        }

        return false;
    }
}
