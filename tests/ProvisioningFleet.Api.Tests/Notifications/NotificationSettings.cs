using ProvisioningFleet.Api.Tests.Engine;

namespace ProvisioningFleet.Api.Tests.Notifications;

/// <summary>Engine settings plus quick delivery: a look every 200 ms, a short first back-off and deadline.</summary>
internal static class NotificationSettings
{
    public const string PublicBaseUrl = "https://fleet.example.test/";

    public static void Configure(IDictionary<string, string?> settings)
    {
        EngineFleet.Configure(settings);
        settings["Fleet:Notifications:PollInterval"] = "00:00:00.200";
        settings["Fleet:Notifications:FirstBackoff"] = "00:00:00.300";
        settings["Fleet:Notifications:DeliveryTimeout"] = "00:00:03";
        settings["Fleet:Notifications:PublicBaseUrl"] = PublicBaseUrl;
    }

    public static void UseSmtp(IDictionary<string, string?> settings, int port)
    {
        settings["Fleet:Smtp:Host"] = "127.0.0.1";
        settings["Fleet:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Fleet:Smtp:From"] = "fleet@corp.example";
        settings["Fleet:Smtp:UseTls"] = "false";
    }
}

/// <summary>One aiosmtpd for a test class, started before the class's host so that its port is in the host's settings.</summary>
public sealed class SmtpSinkFixture : IAsyncLifetime
{
    private SmtpSink? _sink;

    internal SmtpSink Sink => _sink ?? throw new InvalidOperationException("The SMTP server starts in InitializeAsync.");

    public async Task InitializeAsync() => _sink = await SmtpSink.StartAsync();

    public async Task DisposeAsync()
    {
        if (_sink is not null)
        {
            await _sink.DisposeAsync();
        }
    }
}
