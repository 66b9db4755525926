using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Notifications;
using ProvisioningFleet.Api.Tests.Engine;
using ProvisioningFleet.Data.Notifications;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Scenarios;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Notifications;

[Collection(PostgresCollection.Name)]
public sealed class DeadChannelTests(PostgresFixture postgres) : EngineFleetTest(postgres)
{
    protected override void ConfigureSettings(IDictionary<string, string?> settings) => NotificationSettings.Configure(settings);

    [Fact]
    public async Task A_channel_that_never_answers_does_not_slow_or_fail_a_2000_device_sweep()
    {
        // Two identical fleets of 2,000: one swept with no channel, the other with a channel that never answers.
        await using var second = await EngineFleet.StartAsync(Api);
        var quiet = await RegisterAsync(Fleet);
        var noisy = await RegisterAsync(second);
        Assert.Equal(quiet.Count(d => d.InProvisioningMode), noisy.Count(d => d.InProvisioningMode));

        var without = await Fleet.SweepAsync(Fleet.Admin, timeout: TimeSpan.FromMinutes(3));

        await using var dead = await HttpReceiver.StartAsync();
        dead.NeverAnswer = true;
        var created = await Fleet.Admin.PostAsJsonAsync("/api/v1/notifications", new
        {
            name = "dead-end",
            kind = "Webhook",
            url = dead.UrlFor("/never").ToString(),
            events = NotificationEventTypes.All,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var channel = (await created.Content.ReadFromJsonAsync<NotificationChannelView>(Json.Options))!;

        var with = await second.SweepAsync(second.Admin, timeout: TimeSpan.FromMinutes(3));

        // The same outcome, device for device.
        Assert.Equal((SweepStatus.Completed, SweepStatus.Completed), (without.Status, with.Status));
        Assert.Equal((without.Total, without.Probed, without.Remediated, without.RemediationsFailed, without.Skipped),
            (with.Total, with.Probed, with.Remediated, with.RemediationsFailed, with.Skipped));
        Assert.Equal(without.ByState.OrderBy(p => p.Key), with.ByState.OrderBy(p => p.Key));
        Assert.True(with.Remediated > 0);

        // The channel was being called, and hanging, while the sweep ran: the sweep did not wait for it.
        Assert.Contains(dead.Requests, r => r.At < with.FinishedAt);
        var took = (with.FinishedAt - with.StartedAt)!.Value;
        var tookWithout = (without.FinishedAt - without.StartedAt)!.Value;
        Assert.True(took < tookWithout * 2 + TimeSpan.FromSeconds(10), $"With a dead channel the sweep took {took}, without {tookWithout}.");

        // Every attempt was cut at the delivery deadline and logged; every event of the sweep still waits for the channel.
        await using var db = Api.CreateDbContext();
        // A sweep shorter than the deadline ends before the first attempt is cut.
        var log = await Eventually.MatchAsync(
            () => db.NotificationDeliveries.AsNoTracking().Where(d => d.ChannelId == channel.Id).ToListAsync(), found => found.Count > 0, "a delivery attempt logged");
        Assert.All(log, d => Assert.Equal((NotificationDeliveryStatus.Failed, "No answer within 3 s."), (d.Status, d.Error)));
        var sweepEvents = await db.NotificationEvents.AsNoTracking().Where(e => e.SweepId == with.Id).Select(e => e.Id).ToListAsync();
        Assert.Equal(with.Remediated + with.RemediationsFailed + 1, sweepEvents.Count - await db.NotificationEvents.CountAsync(e => e.SweepId == with.Id && e.Type == NotificationEventTypes.DeviceOverdue));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await db.NotificationEvents.AnyAsync(e => e.SweepId == with.Id && e.DispatchedAt == null) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(sweepEvents.Count, await db.Set<NotificationQueueItem>().CountAsync(q => q.ChannelId == channel.Id && sweepEvents.Contains(q.EventId)));
    }

    private static async Task<IReadOnlyList<SimulatedDevice>> RegisterAsync(EngineFleet fleet)
    {
        var devices = FleetScenario.Generate(new FleetMix { Devices = 2000, Flaky = 0, HostPrefix = "pc-", Domain = fleet.Tag + ".test", Seed = 11 });
        foreach (var device in devices.Where(d => d.Behavior == DeviceBehavior.Silent))
        {
            device.Behavior = DeviceBehavior.RefuseConnections;
        }

        await fleet.RegisterAsync(devices);
        return devices;
    }
}
