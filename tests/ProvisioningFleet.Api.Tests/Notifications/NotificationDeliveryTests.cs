using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Notifications;
using ProvisioningFleet.Api.Tests.Engine;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.Notifications;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Notifications;

/// <summary>Deliveries to real receivers: an HTTP server for webhooks, Slack and Teams, aiosmtpd for e-mail.</summary>
[Collection(PostgresCollection.Name)]
public sealed class NotificationDeliveryTests(PostgresFixture postgres, SmtpSinkFixture smtp) : EngineFleetTest(postgres), IClassFixture<SmtpSinkFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    protected override void ConfigureSettings(IDictionary<string, string?> settings)
    {
        NotificationSettings.Configure(settings);
        NotificationSettings.UseSmtp(settings, smtp.Sink.Port);
        settings["Fleet:Notifications:MaxAttempts"] = "3";
    }

    [Fact]
    public async Task A_webhook_gets_signed_events_and_a_refused_one_is_sent_again()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.Answer = number => number == 1 ? 500 : 200;
        const string secret = "s3cret-for-hmac";
        var channel = await CreateAsync(new { name = "hook-" + Fleet.Tag, kind = "Webhook", url = receiver.UrlFor("/hooks/fleet").ToString(), secret, events = new[] { "device.overdue" } });
        var stuck = await Fleet.AddAsync("stuck", d => d.EnterProvisioningMode(TimeSpan.FromDays(3)));

        await ProbeAsync(stuck);

        var requests = await receiver.WaitForAsync(r => r.Count >= 2, Patience);
        foreach (var request in requests)
        {
            var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), request.Body));
            Assert.Equal(expected, request.Header("X-Fleet-Signature"));
            Assert.Equal("device.overdue", request.Header("X-Fleet-Event"));
            Assert.Equal("/hooks/fleet", request.Path);
        }

        // The same event both times: the 500 was retried after the back-off, not dropped.
        var body = requests[1].Json;
        Assert.Equal(requests[0].Json.GetProperty("id").GetInt64(), body.GetProperty("id").GetInt64());
        Assert.Equal("device.overdue", body.GetProperty("type").GetString());
        Assert.True(body.TryGetProperty("occurredAt", out _));
        Assert.Equal(Fleet.HostName("stuck"), body.GetProperty("data").GetProperty("hostName").GetString());
        Assert.Equal(Fleet.IdOf(stuck), body.GetProperty("data").GetProperty("deviceId").GetInt64());
        Assert.Equal("Overdue", body.GetProperty("data").GetProperty("state").GetString());
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromMilliseconds(250), "The retry came before the back-off.");

        var log = await DeliveriesAsync(channel.Id, 2);
        Assert.Equal((NotificationDeliveryStatus.Delivered, 2, 200), (log[0].Status, log[0].Attempt, log[0].ResponseCode));
        Assert.Equal((NotificationDeliveryStatus.Failed, 1, 500), (log[1].Status, log[1].Attempt, log[1].ResponseCode));
        Assert.Contains("HTTP 500", log[1].Error);
        Assert.Equal(body.GetProperty("id").GetInt64(), log[0].EventId);
        Assert.Equal(0, (await Fleet.Admin.GetFromJsonAsync<NotificationChannelView>($"/api/v1/notifications/{channel.Id}", Json.Options))!.Pending);
    }

    [Fact]
    public async Task A_message_refused_at_every_attempt_is_abandoned_after_the_last_and_logged()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.Answer = _ => 503;
        var channel = await CreateAsync(new { name = "refusing-" + Fleet.Tag, kind = "Webhook", url = receiver.UrlFor("/no").ToString(), events = new[] { "device.overdue" } });
        var stuck = await Fleet.AddAsync("refused", d => d.EnterProvisioningMode(TimeSpan.FromDays(3)));

        await ProbeAsync(stuck);

        var log = await DeliveriesAsync(channel.Id, 3);
        Assert.Equal(
            [(NotificationDeliveryStatus.Abandoned, 3), (NotificationDeliveryStatus.Failed, 2), (NotificationDeliveryStatus.Failed, 1)],
            log.Select(d => (d.Status, d.Attempt)));
        Assert.All(log, d => Assert.Equal(503, d.ResponseCode));
        // Back-off doubles: 300 ms, then 600 ms.
        Assert.True(log[0].At - log[1].At >= TimeSpan.FromMilliseconds(550) && log[1].At - log[2].At >= TimeSpan.FromMilliseconds(250));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(3, receiver.Requests.Count);
        var view = (await Fleet.Admin.GetFromJsonAsync<NotificationChannelView>($"/api/v1/notifications/{channel.Id}", Json.Options))!;
        Assert.Equal((0, 0, (DateTimeOffset?)null), (view.Pending, view.ConsecutiveFailures, view.NextAttemptAt));
    }

    [Fact]
    public async Task Slack_and_Teams_get_their_own_formats_with_links_to_the_device()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        var slack = await CreateAsync(new { name = "slack-" + Fleet.Tag, kind = "Slack", url = receiver.UrlFor("/services/T1/B2/secretpath").ToString(), events = new[] { "remediation.succeeded" } });
        var teams = await CreateAsync(new { name = "teams-" + Fleet.Tag, kind = "Teams", url = receiver.UrlFor("/workflows/teams").ToString(), events = new[] { "remediation.succeeded" } });
        var stuck = await Fleet.AddAsync("fixme", d => d.EnterProvisioningMode(TimeSpan.FromDays(3)));
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);

        var fixedResponse = await operatorClient.PostAsJsonAsync($"/api/v1/devices/{Fleet.IdOf(stuck)}/remediate", new { });
        Assert.Equal(HttpStatusCode.OK, fixedResponse.StatusCode);

        var requests = await receiver.WaitForAsync(r => r.Count >= 2, Patience);
        var deviceLink = $"{NotificationSettings.PublicBaseUrl}ui/device.html?id={Fleet.IdOf(stuck)}";

        var slackBody = requests.Single(r => r.Path == "/services/T1/B2/secretpath").Json;
        Assert.Contains(Fleet.HostName("fixme"), slackBody.GetProperty("text").GetString());
        var blocks = slackBody.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal("header", blocks[0].GetProperty("type").GetString());
        var section = blocks.Single(b => b.GetProperty("type").GetString() == "section").GetProperty("text");
        Assert.Equal("mrkdwn", section.GetProperty("type").GetString());
        Assert.StartsWith($"<{deviceLink}|{Fleet.HostName("fixme")}: remediation ", section.GetProperty("text").GetString());

        var teamsBody = requests.Single(r => r.Path == "/workflows/teams").Json;
        Assert.Equal("message", teamsBody.GetProperty("type").GetString());
        var attachment = teamsBody.GetProperty("attachments")[0];
        Assert.Equal("application/vnd.microsoft.card.adaptive", attachment.GetProperty("contentType").GetString());
        var card = attachment.GetProperty("content");
        Assert.Equal("AdaptiveCard", card.GetProperty("type").GetString());
        Assert.Contains(card.GetProperty("body").EnumerateArray(), b => b.GetProperty("text").GetString()!.Contains($"]({deviceLink})"));
        Assert.Equal(deviceLink, card.GetProperty("actions")[0].GetProperty("url").GetString());
        Assert.Equal("Action.OpenUrl", card.GetProperty("actions")[0].GetProperty("type").GetString());

        // The test message goes out at once and is in the log as such.
        var test = await Fleet.Admin.PostAsync($"/api/v1/notifications/{teams.Id}/test", null);
        Assert.Equal(HttpStatusCode.OK, test.StatusCode);
        var testDelivery = (await test.Content.ReadFromJsonAsync<NotificationDeliveryView>(Json.Options))!;
        Assert.Equal((NotificationDeliveryStatus.Delivered, "test", 200), (testDelivery.Status, testDelivery.Type, testDelivery.ResponseCode));
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Contains("test message", receiver.Requests[^1].Json.GetProperty("attachments")[0].GetProperty("content").GetProperty("body")[0].GetProperty("text").GetString());
        Assert.Equal(["test", "remediation.succeeded"], (await DeliveriesAsync(teams.Id, 2)).Select(d => d.Type));
        Assert.Equal("remediation.succeeded", (await DeliveriesAsync(slack.Id, 1)).Single().Type);
    }

    [Fact]
    public async Task E_mail_goes_through_a_real_SMTP_server()
    {
        var before = smtp.Sink.Messages().Count;
        var channel = await CreateAsync(new { name = "mail-" + Fleet.Tag, kind = "Email", to = new[] { "ops@corp.example", "Night Shift <night@corp.example>" }, events = new[] { "remediation.failed" } });
        // The client accepts the fix and stays in provisioning mode: the verification fails, and so does the remediation.
        var stubborn = await Fleet.AddAsync("stubborn", d => { d.EnterProvisioningMode(TimeSpan.FromDays(3)); d.FixTakesEffect = false; });
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);

        var response = await operatorClient.PostAsJsonAsync($"/api/v1/devices/{Fleet.IdOf(stubborn)}/remediate", new { });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Failed", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString());

        var log = await DeliveriesAsync(channel.Id, 1);
        Assert.True(log[0].Status == NotificationDeliveryStatus.Delivered, JsonSerializer.Serialize(log));
        var mail = (await smtp.Sink.WaitForAsync(before + 1, Patience))[before];
        Assert.Equal($"[ProvisioningFleet] Remediation of {Fleet.HostName("stubborn")} failed", mail.Subject);
        Assert.Equal("fleet@corp.example", mail.From.Mailboxes.Single().Address);
        Assert.Equal(["ops@corp.example", "night@corp.example"], mail.To.Mailboxes.Select(m => m.Address));
        Assert.Contains($"{NotificationSettings.PublicBaseUrl}ui/device.html?id={Fleet.IdOf(stubborn)}", mail.TextBody);
        Assert.Contains("failed", mail.TextBody);

        var test = await Fleet.Admin.PostAsync($"/api/v1/notifications/{channel.Id}/test", null);
        Assert.Equal(NotificationDeliveryStatus.Delivered, (await test.Content.ReadFromJsonAsync<NotificationDeliveryView>(Json.Options))!.Status);
        Assert.Equal("[ProvisioningFleet] ProvisioningFleet test message", (await smtp.Sink.WaitForAsync(before + 2, Patience))[before + 1].Subject);
    }

    private async Task<NotificationChannelView> CreateAsync(object channel)
    {
        var response = await Fleet.Admin.PostAsJsonAsync("/api/v1/notifications", channel);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<NotificationChannelView>(Json.Options))!;
    }

    private async Task ProbeAsync(SimulatedDevice device)
    {
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/devices/{Fleet.IdOf(device)}/probe", null)).StatusCode);
    }

    /// <summary>The channel's log, newest first, once it holds at least <paramref name="count"/> entries.</summary>
    private async Task<IReadOnlyList<NotificationDeliveryView>> DeliveriesAsync(long channelId, int count)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var log = (await Fleet.Admin.GetFromJsonAsync<PagedList<NotificationDeliveryView>>($"/api/v1/notifications/{channelId}/deliveries", Json.Options))!;
            if (log.Items.Count >= count)
            {
                return log.Items;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Channel {channelId} has {log.Items.Count} deliveries logged, expected {count}: {JsonSerializer.Serialize(log.Items)}");
            await Task.Delay(100);
        }
    }
}
