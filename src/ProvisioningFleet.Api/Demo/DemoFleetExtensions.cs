using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Devices;

namespace ProvisioningFleet.Api.Demo;

public static class DemoFleetExtensions
{
    public const string SizeSetting = "Fleet:Demo:Devices";

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
        var settings = new Dictionary<string, string?>
        {
            // The simulator speaks Basic over plain HTTP on loopback, which production refuses.
            ["Fleet:WinRm:AllowUnencrypted"] = "true",
            // The demo's simulated fleet listens on this machine.
            [DeviceEndpointRules.AllowLabEndpointsSetting] = "true",
        };
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
