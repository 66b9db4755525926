using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ProvisioningFleet.Simulator.AdminService;
using ProvisioningFleet.Simulator.Authentication;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Inspection;
using ProvisioningFleet.Simulator.Protocol;

namespace ProvisioningFleet.Simulator.Hosting;

/// <summary>
/// A running simulator in this process: Kestrel on (by default) ephemeral loopback ports, one WinRM
/// endpoint per device at <c>/wsman/{host}</c> (or <c>/wsman</c> with the device in the Host header),
/// the inspection API under <c>/simulator/</c>, and the site's AdminService under <c>/AdminService/</c> (HTTPS only).
/// </summary>
public sealed class SimulatedFleetHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SimulatedFleetHost(WebApplication app, SimulatedFleet fleet, SimulatedSite site, SimulatorOptions options, Uri http, Uri? https, X509Certificate2? certificate)
    {
        _app = app;
        Fleet = fleet;
        Site = site;
        Options = options;
        HttpBaseAddress = http;
        HttpsBaseAddress = https;
        HttpsCertificate = certificate;
    }

    public SimulatedFleet Fleet { get; }

    /// <summary>The ConfigMgr site that knows the fleet, served as its AdminService.</summary>
    public SimulatedSite Site { get; }

    /// <summary>The AdminService root, e.g. <c>https://127.0.0.1:PORT/AdminService</c>.</summary>
    public Uri AdminServiceUrl => new(HttpsBaseAddress ?? throw new InvalidOperationException("The AdminService is served over HTTPS: start the simulator with an HTTPS port."), "/AdminService");

    public SimulatorOptions Options { get; }

    public Uri HttpBaseAddress { get; }

    public Uri? HttpsBaseAddress { get; }

    public X509Certificate2? HttpsCertificate { get; }

    public Uri InspectionBaseAddress => new(HttpBaseAddress, "/simulator/");

    public Uri EndpointFor(string hostName) => new(HttpBaseAddress, "/wsman/" + Uri.EscapeDataString(hostName));

    public Uri HttpsEndpointFor(string hostName) =>
        new(HttpsBaseAddress ?? throw new InvalidOperationException("This simulator was started without HTTPS."), "/wsman/" + Uri.EscapeDataString(hostName));

    public static async Task<SimulatedFleetHost> StartAsync(SimulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var certificate = options.HttpsPort is null ? null : SelfSignedCertificate.Create(options.ListenAddress, options.TimeProvider);
        var fleet = new SimulatedFleet(options.TimeProvider, options.InvocationLogCapacity);
        var site = new SimulatedSite();

        if (options.AllowNegotiate)
        {
            NtlmUserFile.Include(options.Users);
            if (options.KerberosKeytab is { } keytab)
            {
                NativeEnvironment.Set("KRB5_KTNAME", "FILE:" + Path.GetFullPath(keytab));
            }
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.ConfigureHttpJsonOptions(o => InspectionJson.Configure(o.SerializerOptions));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 4 * 1024 * 1024;
            Listen(kestrel, options.ListenAddress, options.HttpPort, null);
            if (options.HttpsPort is { } httpsPort)
            {
                Listen(kestrel, options.ListenAddress, httpsPort, certificate);
            }
        });

        var app = builder.Build();
        var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var listener = new WsManListener(fleet, options, new ListenerAuthentication(options),
            new WsManDispatcher(new EnumerationContexts(options.TimeProvider), options.RecordReads), stopping);
        app.Map("/wsman", context => listener.HandleAsync(context, null));
        app.Map("/wsman/{host}", context => listener.HandleAsync(context, context.Request.RouteValues["host"] as string));
        var adminService = new AdminServiceEndpoint(site, options);
        app.Map("/AdminService/wmi/{class}", context => adminService.HandleAsync(context, (string)context.Request.RouteValues["class"]!));
        if (options.EnableInspection)
        {
            app.MapSimulatorInspectionApi(fleet);
        }

        await app.StartAsync(cancellationToken);

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var http = addresses.Select(a => new Uri(a)).First(a => a.Scheme == Uri.UriSchemeHttp);
        var https = addresses.Select(a => new Uri(a)).FirstOrDefault(a => a.Scheme == Uri.UriSchemeHttps);
        return new SimulatedFleetHost(app, fleet, site, options, Normalize(http), https is null ? null : Normalize(https), certificate);
    }

    /// <summary>Kestrel reports a wildcard bind as [::] or 0.0.0.0; clients need an address to dial.</summary>
    private static Uri Normalize(Uri address)
    {
        var host = address.Host is "[::]" or "0.0.0.0" or "::" ? "127.0.0.1" : address.Host;
        return new UriBuilder(address.Scheme, host, address.Port, "/").Uri;
    }

    private static void Listen(KestrelServerOptions kestrel, string address, int port, X509Certificate2? certificate)
    {
        void Configure(ListenOptions listen)
        {
            // NTLM and Negotiate authenticate the TCP connection: HTTP/1.1 only.
            listen.Protocols = HttpProtocols.Http1;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }

        if (address.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.Listen(IPAddress.Loopback, port, Configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(address), port, Configure);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        HttpsCertificate?.Dispose();
    }
}
