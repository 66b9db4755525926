using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace ProvisioningFleet.Api.Hosting;

/// <summary>
/// The TLS-terminating proxies in front of the service. Only a request arriving from one of them may say,
/// through <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c>, who the client is and that it spoke HTTPS:
/// anyone else could claim an address (and so escape the rate limits) or HTTPS (and so get HSTS and Secure
/// cookies answered over plain HTTP).
/// </summary>
public sealed class ProxyOptions
{
    public const string Section = "Fleet:Proxy";

    /// <summary>Proxy addresses, e.g. <c>10.0.0.5</c>. With neither list set, only loopback is trusted (a sidecar).</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Proxy networks in CIDR form, e.g. <c>10.42.0.0/16</c> (a Kubernetes ingress controller's pods).</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>Applies the configured proxies; a value that is not an address or a network stops start-up.</summary>
    internal void ApplyTo(ForwardedHeadersOptions options)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        if (KnownProxies.Length == 0 && KnownNetworks.Length == 0)
        {
            return;
        }

        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in KnownProxies)
        {
            if (!IPAddress.TryParse(proxy.Trim(), out var address))
            {
                throw new FleetConfigurationException($"{Section}:KnownProxies: '{proxy}' is not an IP address.");
            }
            options.KnownProxies.Add(address);
        }

        foreach (var network in KnownNetworks)
        {
            if (!System.Net.IPNetwork.TryParse(network.Trim(), out var parsed))
            {
                throw new FleetConfigurationException($"{Section}:KnownNetworks: '{network}' is not a network in CIDR form (e.g. 10.42.0.0/16).");
            }
            options.KnownIPNetworks.Add(parsed);
        }
    }
}
