using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.Devices;

namespace ProvisioningFleet.Api.Devices;

/// <summary>
/// A device as sent by POST, PUT or one row of an import. Fields are loose (strings) so that every
/// bad value becomes a validation error naming its field, never a binding failure; unknown fields are refused.
/// </summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record DeviceInput(
    string? HostName,
    string? Endpoint = null,
    string? Transport = null,
    string? Authentication = null,
    string? Credential = null,
    string[]? Tags = null,
    bool? Enabled = null,
    bool? RemediationExcluded = null,
    string? Spn = null);

public static partial class DeviceRules
{
    public const int MaxTags = 50;

    /// <summary>
    /// Checks <paramref name="input"/>; errors go to <paramref name="errors"/> as <c>{prefix}{field}</c>.
    /// <paramref name="credentials"/> holds the credentials by name (case-sensitive, as stored); <paramref name="endpoints"/>
    /// says where an endpoint may not point and where the device's credential may go (its hosts only when
    /// <paramref name="checkCredentialHosts"/>: a source's template has no real host yet).
    /// </summary>
    public static ValidDevice? Validate(
        DeviceInput input, string prefix, ValidationErrors errors, IReadOnlyDictionary<string, Credential> credentials, DeviceEndpointRules endpoints,
        bool checkCredentialHosts = true)
    {
        var valid = true;
        void Fail(string field, string message)
        {
            errors.Add(prefix + field, message);
            valid = false;
        }

        var hostName = input.HostName?.Trim() ?? "";
        if (hostName.Length == 0)
        {
            Fail("hostName", "hostName is required.");
        }
        else if (!IsHostName(hostName))
        {
            Fail("hostName", $"'{Shorten(hostName)}' is not a DNS name or an IP address.");
        }

        Uri? endpoint = null;
        if (!string.IsNullOrWhiteSpace(input.Endpoint))
        {
            if (!Uri.TryCreate(input.Endpoint.Trim(), UriKind.Absolute, out endpoint)
                || endpoint.Scheme is not ("http" or "https")
                || endpoint.Host.Length == 0
                || endpoint.UserInfo.Length > 0
                || input.Endpoint.Length > 2048)
            {
                Fail("endpoint", "endpoint must be an http:// or https:// URL without user information, e.g. http://host:5985/wsman.");
                endpoint = null;
            }
        }

        var transport = endpoint?.Scheme == "https" ? CimTransport.Https : CimTransport.Http;
        if (!string.IsNullOrWhiteSpace(input.Transport))
        {
            if (!TryParseName(input.Transport, out transport))
            {
                Fail("transport", $"transport must be one of {string.Join(", ", Enum.GetNames<CimTransport>())}.");
            }
            else if (endpoint is not null && (endpoint.Scheme == "https") != (transport == CimTransport.Https))
            {
                Fail("transport", $"transport {transport} does not match the endpoint's scheme ({endpoint.Scheme}).");
            }
        }

        var authentication = CimAuthentication.Negotiate;
        if (!string.IsNullOrWhiteSpace(input.Authentication) && !TryParseName(input.Authentication, out authentication))
        {
            Fail("authentication", $"authentication must be one of {string.Join(", ", Enum.GetNames<CimAuthentication>())}.");
        }

        Credential? credential = null;
        if (!string.IsNullOrWhiteSpace(input.Credential))
        {
            if (credentials.TryGetValue(input.Credential.Trim(), out var found))
            {
                credential = found;
            }
            else
            {
                Fail("credential", $"There is no credential named '{Shorten(input.Credential.Trim())}'.");
            }
        }
        else if (authentication == CimAuthentication.Basic)
        {
            Fail("credential", "Basic authentication needs a credential.");
        }

        var spn = string.IsNullOrWhiteSpace(input.Spn) ? null : input.Spn.Trim();
        if (spn is not null && !IsServicePrincipalName(spn))
        {
            Fail("spn", $"'{Shorten(spn)}' is not a service principal name: use service/host or service/host@REALM, e.g. HTTP/pc-0042.corp.example.");
        }

        var tags = (input.Tags ?? []).Select(tag => tag?.Trim() ?? "").ToArray();
        if (tags.Length > MaxTags)
        {
            Fail("tags", $"A device has at most {MaxTags} tags.");
        }

        foreach (var tag in tags.Where(tag => tag.Length > FleetLimits.Tag || !TagPattern().IsMatch(tag)))
        {
            Fail("tags", $"'{Shorten(tag)}' is not a tag: use 1 to {FleetLimits.Tag} letters, digits, '.', '_', ':' or '-'.");
        }

        if (!valid)
        {
            return null;
        }

        var endpointUri = endpoint ?? CimTarget.DefaultEndpoint(UriHost(hostName), transport);
        if (endpoints.Refusal(endpointUri) is { } refusal)
        {
            Fail(endpoint is null ? "hostName" : "endpoint", refusal);
            return null;
        }

        if (endpoints.CredentialRefusal(credential, new CredentialUse(hostName, endpointUri, transport, authentication, spn), checkCredentialHosts) is { } outOfScope)
        {
            Fail("credential", outOfScope);
            return null;
        }

        var endpointText = endpointUri.ToString();
        return new ValidDevice(hostName, endpointText, transport, authentication, credential?.Id,
            tags.Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), input.Enabled ?? true, input.RemediationExcluded ?? false, spn);
    }

    private static bool IsServicePrincipalName(string spn) =>
        spn.Length <= FleetLimits.ServicePrincipalName && SpnPattern().IsMatch(spn);

    private static bool TryParseName<TEnum>(string text, out TEnum value) where TEnum : struct, Enum =>
        Enum.TryParse(text.Trim(), ignoreCase: true, out value) && Enum.IsDefined(value) && !text.Trim().All(char.IsAsciiDigit);

    private static bool IsHostName(string hostName) =>
        hostName.Length <= FleetLimits.HostName
        && (IsIpAddress(hostName) || DnsName().IsMatch(hostName));

    private static bool IsIpAddress(string hostName) =>
        IPAddress.TryParse(hostName, out var address)
        && (address.AddressFamily == AddressFamily.InterNetworkV6 || hostName.Count(c => c == '.') == 3);

    // An IPv6 literal needs brackets inside a URL.
    private static string UriHost(string hostName) =>
        IPAddress.TryParse(hostName, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{hostName}]" : hostName;

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    // Labels of letters, digits, '-' and '_' (seen in real Windows names), not starting or ending with '-'; the length is checked beside it.
    [GeneratedRegex(@"^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$")]
    private static partial Regex DnsName();

    [GeneratedRegex(@"^[A-Za-z0-9._:-]+$")]
    private static partial Regex TagPattern();

    // service/host[:port][@REALM]: printable ASCII without spaces, one '/' after the service.
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_-]{0,31}/[A-Za-z0-9._\[\]:-]{1,260}(@[A-Za-z0-9._-]{1,255})?$")]
    private static partial Regex SpnPattern();
}
