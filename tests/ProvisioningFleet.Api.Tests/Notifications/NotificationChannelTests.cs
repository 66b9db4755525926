using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Notifications;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.Notifications;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Notifications;

[Collection(PostgresCollection.Name)]
public sealed class NotificationChannelTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    private const string WebhookSecret = "whsec-7c1d0e2f-very-secret";
    private const string SlackUrl = "https://hooks.slack.test/services/T000/B000/XXXXSECRETXXXX";

    // Nothing is delivered by this class's host: these tests are about what is stored and shown.
    protected override void ConfigureSettings(IDictionary<string, string?> settings) => settings["Fleet:Notifications:Deliver"] = "false";

    [Fact]
    public async Task Secrets_are_encrypted_at_rest_and_never_returned()
    {
        using var admin = Api.CreateAdminClient();
        var created = await admin.PostAsJsonAsync("/api/v1/notifications", new
        {
            name = "ops-webhook",
            kind = "Webhook",
            url = "https://hooks.example.test/fleet",
            secret = WebhookSecret,
            events = new[] { "device.overdue", "SWEEP.COMPLETED" },
            minimumIntervalMinutes = 5,
        });
        var createdBody = await created.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.DoesNotContain(WebhookSecret, createdBody);
        var webhook = JsonSerializer.Deserialize<NotificationChannelView>(createdBody, Json.Options)!;
        Assert.Equal($"/api/v1/notifications/{webhook.Id}", created.Headers.Location?.OriginalString);
        Assert.True(webhook.HasSecret);
        Assert.Equal(["device.overdue", "sweep.completed"], webhook.Events);
        Assert.Equal((NotificationChannelKind.Webhook, "https://hooks.example.test/fleet", 5, true), (webhook.Kind, webhook.Url, webhook.MinimumIntervalMinutes, webhook.Enabled));

        var slack = await admin.PostAsJsonAsync("/api/v1/notifications", new { name = "ops-slack", kind = "slack", url = SlackUrl, events = new[] { "remediation.failed" } });
        var slackBody = await slack.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, slack.StatusCode);
        Assert.DoesNotContain("XXXXSECRETXXXX", slackBody);
        var slackView = JsonSerializer.Deserialize<NotificationChannelView>(slackBody, Json.Options)!;
        Assert.Equal("https://hooks.slack.test/…", slackView.Url);

        // A reader sees the channels, without secrets; the list, a channel and the audit log never carry them.
        using var reader = await Api.CreateClientAsync(ApiKeyRole.Reader);
        var list = await reader.GetStringAsync("/api/v1/notifications");
        var one = await reader.GetStringAsync($"/api/v1/notifications/{slackView.Id}");
        var audit = await admin.GetStringAsync("/api/v1/audit?action=notification.create");
        foreach (var shown in new[] { list, one, audit })
        {
            Assert.DoesNotContain(WebhookSecret, shown);
            Assert.DoesNotContain("XXXXSECRETXXXX", shown);
        }

        Assert.Equal(2, JsonSerializer.Deserialize<PagedList<NotificationChannelView>>(list, Json.Options)!.Total);
        Assert.Contains("ops-slack", audit);

        // At rest: Data Protection ciphertext, not the secret nor the URL.
        await using var db = Api.CreateDbContext();
        var stored = await db.NotificationChannels.AsNoTracking().OrderBy(c => c.Id).ToListAsync();
        Assert.NotNull(stored[0].ProtectedSecret);
        Assert.DoesNotContain(WebhookSecret, stored[0].ProtectedSecret!);
        Assert.DoesNotContain("XXXXSECRETXXXX", stored[1].ProtectedUrl!);
        Assert.Equal("https://hooks.slack.test/…", stored[1].Url);

        // A replace that leaves the secret (and the Slack URL, as GET shows it) out keeps them; "" removes the secret.
        var kept = await admin.PutAsJsonAsync($"/api/v1/notifications/{webhook.Id}", new { name = "ops-webhook", kind = "Webhook", url = "https://hooks.example.test/fleet2", events = new[] { "sweep.failed" } });
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        Assert.True((await kept.Content.ReadFromJsonAsync<NotificationChannelView>(Json.Options))!.HasSecret);
        var slackKept = await admin.PutAsJsonAsync($"/api/v1/notifications/{slackView.Id}", new { name = "ops-slack", kind = "Slack", url = slackView.Url, events = new[] { "remediation.failed" }, enabled = false });
        Assert.Equal(HttpStatusCode.OK, slackKept.StatusCode);
        var removed = await admin.PutAsJsonAsync($"/api/v1/notifications/{webhook.Id}", new { name = "ops-webhook", kind = "Webhook", url = "https://hooks.example.test/fleet2", secret = "", events = new[] { "sweep.failed" } });
        Assert.False((await removed.Content.ReadFromJsonAsync<NotificationChannelView>(Json.Options))!.HasSecret);
        await using var after = Api.CreateDbContext();
        var slackStored = await after.NotificationChannels.AsNoTracking().SingleAsync(c => c.Id == slackView.Id);
        Assert.Equal(stored[1].ProtectedUrl, slackStored.ProtectedUrl);
        Assert.False(slackStored.Enabled);
    }

    [Fact]
    public async Task Bad_input_names_each_field_and_changes_nothing()
    {
        using var admin = Api.CreateAdminClient();
        await using var db = Api.CreateDbContext();
        var before = await db.NotificationChannels.CountAsync();

        var bad = await admin.PostAsJsonAsync("/api/v1/notifications", new
        {
            name = "no spaces allowed",
            kind = "Pager",
            url = "ftp://x",
            to = new[] { "ops@corp.example" },
            events = new[] { "device.overdue", "device.exploded" },
            minimumIntervalMinutes = -1,
        });
        await bad.AssertProblemAsync(HttpStatusCode.BadRequest, "name", "kind", "events[1]", "minimumIntervalMinutes");

        var webhookWithoutUrl = await admin.PostAsJsonAsync("/api/v1/notifications", new { name = "x", kind = "Webhook", to = new[] { "a@b.c" }, events = Array.Empty<string>() });
        await webhookWithoutUrl.AssertProblemAsync(HttpStatusCode.BadRequest, "url", "to", "events");

        var slackWithSecret = await admin.PostAsJsonAsync("/api/v1/notifications", new { name = "x", kind = "Slack", url = "https://hooks.slack.test/a", secret = "s", events = new[] { "sweep.failed" } });
        await slackWithSecret.AssertProblemAsync(HttpStatusCode.BadRequest, "secret");

        // This host has no SMTP server configured: an Email channel could never deliver.
        var email = await admin.PostAsJsonAsync("/api/v1/notifications", new { name = "mail", kind = "Email", to = new[] { "ops@corp.example", "not an address" }, events = new[] { "sweep.failed" } });
        await email.AssertProblemAsync(HttpStatusCode.BadRequest, "kind", "to[1]");

        var wrongType = await admin.PostAsync("/api/v1/notifications", new StringContent("""{"name":"x","kind":"Webhook","url":"https://a.test","events":["sweep.failed"],"enabled":"yes"}""", System.Text.Encoding.UTF8, "application/json"));
        await wrongType.AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal(before, await db.NotificationChannels.CountAsync());
    }

    [Fact]
    public async Task Roles_names_and_missing_channels_are_answered_as_problems()
    {
        using var admin = Api.CreateAdminClient();
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        var channel = new { name = "dup", kind = "Webhook", url = "https://a.test/hook", events = new[] { "sweep.failed" } };

        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.PostAsJsonAsync("/api/v1/notifications", channel)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/notifications", channel)).StatusCode);
        await (await admin.PostAsJsonAsync("/api/v1/notifications", channel)).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await admin.GetAsync("/api/v1/notifications/999999")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await admin.PutAsJsonAsync("/api/v1/notifications/999999", channel)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await admin.PostAsync("/api/v1/notifications/999999/test", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await admin.GetAsync("/api/v1/notifications/999999/deliveries")).AssertProblemAsync(HttpStatusCode.NotFound);

        var id = (await admin.GetFromJsonAsync<PagedList<NotificationChannelView>>("/api/v1/notifications", Json.Options))!.Items.Single(c => c.Name == "dup").Id;
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.DeleteAsync($"/api/v1/notifications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/notifications/{id}")).StatusCode);
        await (await admin.DeleteAsync($"/api/v1/notifications/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }
}
