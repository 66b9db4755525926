using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Tests.Engine;
using ProvisioningFleet.Data.Notifications;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Notifications;

/// <summary>
/// The outbox across a crash: an instance records a sweep's 2,000 Overdue devices and stops before
/// delivering anything; the next instance delivers them, rolled into one digest per channel.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class NotificationOutboxTests(PostgresFixture postgres, SmtpSinkFixture smtp) : EngineFleetTest(postgres), IClassFixture<SmtpSinkFixture>
{
    private const string Secret = "digest-signing-secret";

    // This class's host is the instance that goes away before delivering: it records events and never sends them.
    protected override void ConfigureSettings(IDictionary<string, string?> settings)
    {
        NotificationSettings.Configure(settings);
        NotificationSettings.UseSmtp(settings, smtp.Sink.Port);
        settings["Fleet:Notifications:Deliver"] = "false";
    }

    [Fact]
    public async Task Events_recorded_before_a_crash_reach_each_channel_once_as_one_digest()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        var mailsBefore = smtp.Sink.Messages().Count;
        Assert.Equal(HttpStatusCode.OK, (await Fleet.Admin.PutAsJsonAsync("/api/v1/policy", new { sweepCron = "0 0 1 1 *", autoRemediate = false })).StatusCode);
        foreach (var channel in new object[]
                 {
                     new { name = "digest-hook", kind = "Webhook", url = receiver.UrlFor("/digest").ToString(), secret = Secret, events = new[] { "device.overdue" }, minimumIntervalMinutes = 1 },
                     new { name = "digest-mail", kind = "Email", to = new[] { "ops@corp.example" }, events = new[] { "device.overdue" }, minimumIntervalMinutes = 1 },
                 })
        {
            Assert.Equal(HttpStatusCode.Created, (await Fleet.Admin.PostAsJsonAsync("/api/v1/notifications", channel)).StatusCode);
        }

        var devices = Enumerable.Range(0, 2000).Select(i => new SimulatedDevice(Fleet.HostName($"pc-{i:D4}"))).ToList();
        devices.ForEach(d => d.EnterProvisioningMode(TimeSpan.FromDays(3)));
        await Fleet.RegisterAsync(devices);

        var sweep = await Fleet.SweepAsync(Fleet.Admin, timeout: TimeSpan.FromMinutes(3));
        Assert.Equal((SweepStatus.Completed, 2000), (sweep.Status, sweep.ByState["Overdue"]));

        // Committed with the verdicts, not sent: the state an instance leaves when it dies right after the sweep.
        await using (var db = Api.CreateDbContext())
        {
            var recorded = await db.NotificationEvents.AsNoTracking().Where(e => e.SweepId == sweep.Id).ToListAsync();
            Assert.Equal(2000, recorded.Count(e => e.Type == NotificationEventTypes.DeviceOverdue));
            Assert.Single(recorded, e => e.Type == NotificationEventTypes.SweepCompleted);
            Assert.All(recorded, e => Assert.Null(e.DispatchedAt));
        }

        await Api.DisposeAsync();
        Assert.Empty(receiver.Requests);

        await using var next = new FleetApiFactory(Api.ConnectionString);
        NotificationSettings.Configure(next.Settings);
        NotificationSettings.UseSmtp(next.Settings, smtp.Sink.Port);
        using var nextClient = next.CreateAdminClient();
        Assert.Equal(HttpStatusCode.OK, (await nextClient.GetAsync("/health/ready")).StatusCode);

        // One minute after the events were queued for them, each channel gets everything in one message.
        var requests = await receiver.WaitForAsync(r => r.Count >= 1, TimeSpan.FromSeconds(100));
        var mails = await smtp.Sink.WaitForAsync(mailsBefore + 1, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Single(receiver.Requests);
        Assert.Equal(mailsBefore + 1, smtp.Sink.Messages().Count);

        var digest = requests[0];
        Assert.Equal("digest", digest.Header("X-Fleet-Event"));
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), digest.Body)), digest.Header("X-Fleet-Signature"));
        var data = digest.Json.GetProperty("data");
        Assert.Equal(2000, data.GetProperty("count").GetInt32());
        var events = data.GetProperty("events").EnumerateArray().ToList();
        Assert.All(events, e => Assert.Equal("device.overdue", e.GetProperty("type").GetString()));
        Assert.Equal(devices.Select(d => Fleet.IdOf(d)).Order(), events.Select(e => e.GetProperty("data").GetProperty("deviceId").GetInt64()).Order());

        var mail = mails[mailsBefore];
        Assert.Equal("[ProvisioningFleet] ProvisioningFleet: 2000 events (2000 device overdue)", mail.Subject);
        Assert.Contains("… and 1980 more", mail.TextBody);
        Assert.Contains($"{NotificationSettings.PublicBaseUrl}ui/device.html?id=", mail.TextBody);
    }
}
