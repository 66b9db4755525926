using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Cim.Mi;
using ProvisioningFleet.Core.Cim.WsMan;

namespace ProvisioningFleet.Api.Tests.Engine;

/// <summary>Fleet:WinRm:Client as the engine registers it, for a Windows and a Linux host alike on whatever OS runs the tests.</summary>
public sealed class CimClientSettingTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", true)]
    [InlineData("WsMan", false)]
    [InlineData("wsman", true)]
    public async Task WsMan_is_the_default_and_runs_on_any_host(string? setting, bool windowsHost)
    {
        await using var services = Register(new() { ["Fleet:WinRm:Client"] = setting }, windowsHost);

        Assert.IsType<WsManCimSessionFactory>(services.GetRequiredService<ICimSessionFactory>());
    }

    [Fact]
    public void Mi_off_Windows_refuses_start_up_and_points_to_WsMan()
    {
        var error = Assert.Throws<FleetConfigurationException>(() => Register(new() { ["Fleet:WinRm:Client"] = "Mi" }, windowsHost: false));

        Assert.Contains("Fleet__WinRm__Client=Mi", error.Message);
        Assert.Contains("needs a Windows host with the native MI library", error.Message);
        Assert.Contains("Use Fleet__WinRm__Client=WsMan", error.Message);
    }

    [Theory]
    [InlineData("WinRM")]
    [InlineData("1")]
    [InlineData("Mi,WsMan")]
    public void An_unknown_client_refuses_start_up_naming_the_allowed_values(string setting)
    {
        var error = Assert.Throws<FleetConfigurationException>(() => Register(new() { ["Fleet:WinRm:Client"] = setting }, windowsHost: true));

        Assert.Contains($"Fleet__WinRm__Client='{setting}'", error.Message);
        Assert.Contains("Allowed values: WsMan, Mi", error.Message);
    }

    [Fact]
    public async Task Mi_on_Windows_uses_the_MI_factory_with_the_WinRm_timeout_and_its_own_protocol()
    {
        await using var services = Register(new()
        {
            ["Fleet:WinRm:Client"] = "mi",
            ["Fleet:WinRm:OperationTimeout"] = "00:00:12",
            ["Fleet:WinRm:AllowUnencrypted"] = "true",
            ["Fleet:WinRm:Mi:Protocol"] = "Dcom",
        }, windowsHost: true);

        Assert.IsType<MiCimSessionFactory>(services.GetRequiredService<ICimSessionFactory>());
        var settings = services.GetRequiredService<IOptions<MiSessionSettings>>().Value;
        Assert.Equal(MiProtocol.Dcom, settings.Protocol);
        Assert.Equal(TimeSpan.FromSeconds(12), settings.OperationTimeout);
        Assert.True(settings.AllowUnencrypted);
    }

    [Fact]
    public async Task Fleet_WinRm_Mi_overrides_the_shared_WinRm_settings_for_MI_alone()
    {
        await using var services = Register(new()
        {
            ["Fleet:WinRm:Client"] = "Mi",
            ["Fleet:WinRm:OperationTimeout"] = "00:00:12",
            ["Fleet:WinRm:AllowUnencrypted"] = "true",
            ["Fleet:WinRm:Mi:OperationTimeout"] = "00:01:00",
            ["Fleet:WinRm:Mi:AllowUnencrypted"] = "false",
        }, windowsHost: true);

        var settings = services.GetRequiredService<IOptions<MiSessionSettings>>().Value;
        Assert.Equal(MiProtocol.WsMan, settings.Protocol);
        Assert.Equal(TimeSpan.FromMinutes(1), settings.OperationTimeout);
        Assert.False(settings.AllowUnencrypted);
        Assert.Equal(TimeSpan.FromSeconds(12), services.GetRequiredService<IOptions<WsManSessionSettings>>().Value.OperationTimeout);
    }

    [Fact]
    public async Task A_factory_registered_before_is_kept_whatever_the_setting()
    {
        var own = new OwnFactory();
        await using var services = Register(new() { ["Fleet:WinRm:Client"] = "Mi" }, windowsHost: true, own);

        Assert.Same(own, services.GetRequiredService<ICimSessionFactory>());
    }

    private static ServiceProvider Register(Dictionary<string, string?> settings, bool windowsHost, ICimSessionFactory? registeredBefore = null)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System);
        if (registeredBefore is not null)
        {
            services.AddSingleton(registeredBefore);
        }

        services.AddCimSessionFactory(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), windowsHost);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private sealed class OwnFactory : ICimSessionFactory
    {
        public ICimSession Open(CimTarget target) => throw new NotSupportedException("Only its identity is under test.");
    }
}
