using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Data.Credentials;

namespace ProvisioningFleet.Api.Credentials;

/// <summary>
/// Where a credential would go: the device (or site) it is for, its own host name (where a credential without host
/// patterns may go), the URL the credential is sent to, how, and a Kerberos SPN that may name another host.
/// </summary>
public sealed record CredentialUse(string HostName, Uri Endpoint, CimTransport Transport, CimAuthentication Authentication, string? ServicePrincipalName = null);

/// <summary>
/// The hosts and authentication schemes a stored credential may be used with (#16, item 4): a device's endpoint is a
/// free URL, so without this an Admin (or a stolen Admin key) could point a device at a server of their own and have the
/// service hand it the password. A credential without host patterns goes only to each device's own host name; with
/// patterns, only to hosts that match one of them (a pattern also binds a Kerberos SPN's host). Without schemes it may be
/// used with every scheme; Basic, which sends the password itself, only over HTTPS unless <c>Fleet:WinRm:AllowUnencrypted</c>
/// (a lab) is on. Checked on every device create, update, import and inventory sync, and again before every call.
/// </summary>
public static partial class CredentialScope
{
    public const int MaxHostPatterns = 50;

    private const int MaxPatternLength = 255;

    /// <summary>Why <paramref name="pattern"/> cannot be a host pattern, or null when it can.</summary>
    public static string? PatternError(string pattern)
    {
        if (pattern.Length is 0 or > MaxPatternLength)
        {
            return $"A host pattern is 1 to {MaxPatternLength} characters.";
        }

        if (pattern == "*" || TryParseNetwork(pattern, out _, out _) || HostPattern().IsMatch(pattern))
        {
            return null;
        }

        return $"'{(pattern.Length <= 80 ? pattern : pattern[..80] + "…")}' is not a host pattern: use a host name (pc-0042.corp.example), "
            + "*.corp.example for every name under corp.example, an IP address or network (10.20.0.0/16), or * for any host.";
    }

    /// <summary>
    /// Why <paramref name="credential"/> may not be used as <paramref name="use"/> says, or null when it may; the hosts only
    /// when <paramref name="checkHosts"/> (an inventory source's endpoint template has no real host yet).
    /// </summary>
    public static string? Refusal(Credential credential, CredentialUse use, bool allowUnencrypted, bool checkHosts = true)
    {
        if (credential.AllowedAuthentications is { Length: > 0 } schemes && !schemes.Contains(use.Authentication))
        {
            return $"Credential '{credential.Name}' may not be used with {use.Authentication}: it allows {string.Join(", ", schemes)}.";
        }

        if (use.Authentication == CimAuthentication.Basic && use.Transport != CimTransport.Https && !allowUnencrypted)
        {
            return $"Basic sends the password of credential '{credential.Name}' itself: only over HTTPS (transport Https). "
                + "For a lab, set Fleet__WinRm__AllowUnencrypted=true.";
        }

        if (!checkHosts)
        {
            return null;
        }

        var host = HostOf(use.Endpoint);
        if (credential.AllowedHosts is not { Length: > 0 } patterns)
        {
            return SameHost(host, use.HostName)
                ? null
                : $"Credential '{credential.Name}' goes only to each device's own host name ({use.HostName}), not to {host}: "
                    + "give the credential host patterns (allowedHosts) that include it.";
        }

        if (!patterns.Any(pattern => Matches(pattern, host)))
        {
            return $"Credential '{credential.Name}' may not be sent to {host}: its hosts are {string.Join(", ", patterns)}.";
        }

        if (use.ServicePrincipalName is { } spn && SpnHost(spn) is { } spnHost && !patterns.Any(pattern => Matches(pattern, spnHost)))
        {
            return $"Credential '{credential.Name}' may not be used for the service principal {spn}: its hosts are {string.Join(", ", patterns)}.";
        }

        return null;
    }

    /// <summary>Whether <paramref name="host"/> (a name or an IP address) matches <paramref name="pattern"/>.</summary>
    public static bool Matches(string pattern, string host)
    {
        host = host.Trim('[', ']').TrimEnd('.');
        if (pattern == "*")
        {
            return true;
        }

        if (TryParseNetwork(pattern, out var network, out var prefixLength))
        {
            return IPAddress.TryParse(host, out var address) && InNetwork(Normalize(address), network, prefixLength);
        }

        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            return host.Length > pattern.Length - 1 && host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase);
        }

        return host.Equals(pattern.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);
    }

    private static string HostOf(Uri endpoint) => endpoint.IdnHost.Trim('[', ']').TrimEnd('.');

    private static bool SameHost(string endpointHost, string deviceHost)
    {
        deviceHost = deviceHost.Trim('[', ']').TrimEnd('.');
        return IPAddress.TryParse(endpointHost, out var a) && IPAddress.TryParse(deviceHost, out var b)
            ? Normalize(a).Equals(Normalize(b))
            : endpointHost.Equals(deviceHost, StringComparison.OrdinalIgnoreCase);
    }

    // service/host[:port][@REALM]
    private static string? SpnHost(string spn)
    {
        var slash = spn.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return null;
        }

        var host = spn[(slash + 1)..];
        if (host.IndexOf('@', StringComparison.Ordinal) is var at and >= 0)
        {
            host = host[..at];
        }

        if (host.StartsWith('['))
        {
            return host.IndexOf(']', StringComparison.Ordinal) is var close and > 0 ? host[1..close] : host;
        }

        return host.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 ? host[..colon] : host;
    }

    private static bool TryParseNetwork(string pattern, out IPAddress network, out int prefixLength)
    {
        network = IPAddress.None;
        prefixLength = 0;
        var slash = pattern.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? pattern : pattern[..slash], out var address)
            || (address.AddressFamily == AddressFamily.InterNetwork && (slash < 0 ? pattern : pattern[..slash]).Count(c => c == '.') != 3))
        {
            return false;
        }

        network = Normalize(address);
        var bits = network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (slash < 0)
        {
            prefixLength = bits;
            return true;
        }

        return int.TryParse(pattern[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefixLength)
            && prefixLength <= bits;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static bool InNetwork(IPAddress address, IPAddress network, int prefixLength)
    {
        if (address.AddressFamily != network.AddressFamily)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[16];
        Span<byte> n = stackalloc byte[16];
        address.TryWriteBytes(a, out var length);
        network.TryWriteBytes(n, out _);
        for (var bit = 0; bit < prefixLength && bit < length * 8; bit += 8)
        {
            var take = Math.Min(8, prefixLength - bit);
            var mask = (byte)(0xFF << (8 - take));
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }

    // A DNS name, optionally under a leading "*." wildcard; labels as DeviceRules accepts them.
    [GeneratedRegex(@"^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$")]
    private static partial Regex HostPattern();
}
