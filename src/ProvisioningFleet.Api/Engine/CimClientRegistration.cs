using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Cim.Mi;
using ProvisioningFleet.Core.Cim.WsMan;

namespace ProvisioningFleet.Api.Engine;

/// <summary>The CIM client that reaches the devices, chosen by <c>Fleet:WinRm:Client</c>.</summary>
internal enum CimClient
{
    /// <summary>The service's own WS-Management client: any host.</summary>
    WsMan,

    /// <summary>The Windows CIM stack (Microsoft.Management.Infrastructure), WS-Man or DCOM: Windows hosts only.</summary>
    Mi,
}

internal static class CimClientRegistration
{
    public const string Setting = "Fleet:WinRm:Client";

    private static readonly string EnvironmentName = FleetConfigurationException.EnvironmentName(Setting);

    /// <summary>
    /// Registers the <see cref="ICimSessionFactory"/> of <see cref="Setting"/> unless one is registered
    /// already. The host's OS is a parameter so that both the refusal and the MI wiring can be tested on any OS.
    /// </summary>
    /// <exception cref="FleetConfigurationException">The setting names no client, or MI on a host other than Windows.</exception>
    public static IServiceCollection AddCimSessionFactory(this IServiceCollection services, IConfiguration configuration, bool windowsHost)
    {
        var client = Parse(configuration[Setting], windowsHost);
        services.AddOptions<WsManSessionSettings>().Bind(configuration.GetSection(WsManSessionSettings.Section));
        // An operator who switches clients keeps the operation timeout and the unencrypted-lab allowance
        // given for Fleet:WinRm; Fleet:WinRm:Mi overrides them for MI alone.
        services.AddOptions<MiSessionSettings>()
            .Configure<IOptions<WsManSessionSettings>>((mi, winRm) =>
            {
                mi.OperationTimeout = winRm.Value.OperationTimeout;
                mi.AllowUnencrypted = winRm.Value.AllowUnencrypted;
            })
            .Bind(configuration.GetSection(MiSessionSettings.Section));
        services.TryAddSingleton<ICimSessionFactory>(sp => client switch
        {
            CimClient.Mi => new MiCimSessionFactory(sp.GetRequiredService<IOptions<MiSessionSettings>>().Value),
            // WS-Management from any host; one pooled, authenticated connection per endpoint and credential.
            _ => new WsManCimSessionFactory(sp.GetRequiredService<IOptions<WsManSessionSettings>>().Value,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()),
        });
        return services;
    }

    private static CimClient Parse(string? value, bool windowsHost)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return CimClient.WsMan;
        }

        // By name only: Enum.TryParse would also take "1" for Mi.
        var names = Enum.GetNames<CimClient>();
        var name = names.FirstOrDefault(n => n.Equals(value.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new FleetConfigurationException(
                $"{EnvironmentName}='{value}' is not a CIM client. Allowed values: {string.Join(", ", names)} " +
                $"(WsMan, the default: the service's own WS-Management client, any host; Mi: the Windows CIM stack, Windows hosts only).");
        var client = Enum.Parse<CimClient>(name);
        if (client == CimClient.Mi && !windowsHost)
        {
            throw new FleetConfigurationException(
                $"{EnvironmentName}=Mi selects the Windows CIM stack (Microsoft.Management.Infrastructure), which needs a Windows host " +
                $"with the native MI library; this host runs {System.Runtime.InteropServices.RuntimeInformation.OSDescription}. " +
                $"Use {EnvironmentName}=WsMan (the default), which reaches the same devices over WS-Management from any host.");
        }

        return client;
    }
}
