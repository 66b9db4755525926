using System.Net;
using System.Net.Sockets;
using Npgsql;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Data.Credentials;

namespace ProvisioningFleet.Api.Devices;

/// <summary>
/// Where a device's WinRM endpoint may not point: this host itself (loopback, <c>localhost</c>), link-local
/// addresses (cloud metadata services live there) and the port of the service's own database. A device is
/// probed with a stored credential, so such an endpoint would hand that credential to a local service, or turn
/// the service into a scanner of its own neighbourhood. A lab (the simulator on this machine) allows them with
/// <c>Fleet:WinRm:AllowLabEndpoints=true</c>. Where a device's credential may go is <see cref="CredentialScope"/>'s rule, applied here
/// with this service's <c>Fleet:WinRm:AllowUnencrypted</c>.
/// </summary>
public sealed class DeviceEndpointRules(bool allowLabEndpoints, int? databasePort, bool allowUnencrypted = false)
{
    public const string AllowLabEndpointsSetting = "Fleet:WinRm:AllowLabEndpoints";

    public const string AllowUnencryptedSetting = "Fleet:WinRm:AllowUnencrypted";

    public static DeviceEndpointRules FromConfiguration(IConfiguration configuration)
    {
        int? port = null;
        if (configuration.GetConnectionString(Storage.FleetDataExtensions.ConnectionStringName) is { Length: > 0 } connectionString)
        {
            try
            {
                port = new NpgsqlConnectionStringBuilder(connectionString).Port;
            }
            catch (ArgumentException)
            {
                // A malformed connection string stops start-up elsewhere, with its own message.
            }
        }

        return new DeviceEndpointRules(configuration.GetValue<bool>(AllowLabEndpointsSetting), port, configuration.GetValue<bool>(AllowUnencryptedSetting));
    }

    /// <summary>Why <paramref name="credential"/> may not be used as <paramref name="use"/> says, or null when it may (or there is none).</summary>
    public string? CredentialRefusal(Credential? credential, CredentialUse use, bool checkHosts = true) =>
        credential is null ? null : CredentialScope.Refusal(credential, use, allowUnencrypted, checkHosts);

    /// <summary>Why <paramref name="endpoint"/> is refused, or null when it may be used.</summary>
    public string? Refusal(Uri endpoint)
    {
        if (allowLabEndpoints)
        {
            return null;
        }

        var host = endpoint.IdnHost.Trim('[', ']').TrimEnd('.');
        string? where = null;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            where = "this host (localhost)";
        }
        else if (IPAddress.TryParse(host, out var address))
        {
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            {
                where = $"this host ({address})";
            }
            else if (address.IsIPv6LinkLocal
                || (address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes() is [169, 254, ..]))
            {
                where = $"a link-local address ({address})";
            }
        }

        if (where is null && databasePort is { } port && endpoint.Port == port)
        {
            where = $"port {port}, the service's own database port";
        }

        return where is null
            ? null
            : $"The endpoint points at {where}: a device's stored credential is never sent there. For a lab, set {AllowLabEndpointsSetting.Replace(":", "__", StringComparison.Ordinal)}=true.";
    }
}
