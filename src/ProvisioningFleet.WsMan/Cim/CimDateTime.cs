using System.Globalization;

namespace ProvisioningFleet.WsMan.Cim;

/// <summary>Both datetime spellings WMI uses: xs:dateTime inside cim:Datetime, and DMTF strings.</summary>
public static class CimDateTime
{
    public static bool TryParse(string text, out DateTimeOffset value)
    {
        text = text.Trim();
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value) && text.Contains('-'))
        {
            return true;
        }

        return TryParseDmtf(text, out value);
    }

    /// <summary>yyyymmddHHMMSS.mmmmmmsUUU, where sUUU is the offset from UTC in minutes.</summary>
    private static bool TryParseDmtf(string text, out DateTimeOffset value)
    {
        value = default;
        if (text.Length != 25 || text[14] != '.' || (text[21] != '+' && text[21] != '-'))
        {
            return false;
        }

        if (!DateTime.TryParseExact(text[..14], "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)
            || !int.TryParse(text.AsSpan(15, 6), NumberStyles.None, CultureInfo.InvariantCulture, out var micros)
            || !int.TryParse(text.AsSpan(22, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var offsetMinutes))
        {
            return false;
        }

        var offset = TimeSpan.FromMinutes(text[21] == '-' ? -offsetMinutes : offsetMinutes);
        if (offset.Duration() > TimeSpan.FromHours(14))
        {
            return false;
        }

        value = new DateTimeOffset(local.AddTicks(micros * 10L), offset).ToUniversalTime();
        return true;
    }
}
