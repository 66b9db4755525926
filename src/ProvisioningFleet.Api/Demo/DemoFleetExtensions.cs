using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Devices;

namespace ProvisioningFleet.Api.Demo;

public static class DemoFleetExtensions
{
    public const string SizeSetting = "Fleet:Demo:Devices";
    private const string AllowUnencryptedSetting = "Fleet:WinRm:AllowUnencrypted";

    /// <summary>
    /// In demo mode only: a simulated fleet in this process, registered in the inventory with a
    /// credential of its own, an Admin key for the newcomer, and a first sweep right away.
    /// </summary>
    public static IHostApplicationBuilder AddDemoFleet(this IHostApplicationBuilder builder)
    {
        if (!builder.Configuration.IsDemo())
        {
            return builder;
        }

        var folder = builder.DataFolder();
        Directory.CreateDirectory(folder);
        var keyFile = Path.Combine(folder, "admin-key.txt");
        var settings = new Dictionary<string, string?>();
        if (builder.Configuration[AllowUnencryptedSetting] is null)
        {
            // The simulator speaks Basic over plain HTTP on loopback, which production refuses. Only a default:
            // an operator who set it false keeps false (the demo's probes then fail with a Configuration error).
            settings[AllowUnencryptedSetting] = "true";
        }

        // The demo's simulated fleet listens on this machine.
        settings[DeviceEndpointRules.AllowLabEndpointsSetting] = "true";
        if (string.IsNullOrEmpty(builder.Configuration[FleetSchemes.BootstrapAdminKeySetting]))
        {
            // In the data folder (owner-only) rather than in the log, and kept across restarts.
            settings[FleetSchemes.BootstrapAdminKeySetting] = AdminKeyFile.ReadOrCreate(keyFile);
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(new DemoFleetOptions(
            builder.Configuration.GetValue(SizeSetting, 1000),
            File.Exists(keyFile) ? keyFile : null));
        builder.Services.AddHostedService<DemoFleet>();
        return builder;
    }
}

internal sealed record DemoFleetOptions(int Devices, string? AdminKeyFile);
