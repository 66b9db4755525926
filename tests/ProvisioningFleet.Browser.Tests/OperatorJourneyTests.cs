using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ProvisioningFleet.Testing;
using static Microsoft.Playwright.Assertions;

namespace ProvisioningFleet.Browser.Tests;

/// <summary>A person in a real (headless) Chromium: signing in, the Hangfire dashboard, the overview and device pages.</summary>
[Collection(OverviewFleetCollection.Name)]
public sealed partial class OperatorJourneyTests(OverviewFleet fleet)
{
    static OperatorJourneyTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_operator_signs_in_sees_the_recurring_sweep_starts_a_sweep_and_the_overview_updates()
    {
        var page = await SignedInPages.OpenAsync(fleet, fleet.OperatorKey, "/hangfire");

        await page.GotoAsync("/hangfire/recurring");
        var sweepRow = page.Locator("tr", new() { HasText = "fleet-sweep" });
        await Expect(sweepRow).ToBeVisibleAsync();
        await Expect(page.Locator("button[data-url$='/recurring/trigger']")).ToBeVisibleAsync();
        await Screenshots.KeepAsync(page, "operator-hangfire-recurring");

        await page.GotoAsync("/ui/overview.html");
        await Expect(page.GetByTestId("total")).ToHaveTextAsync(OverviewFleet.TotalDevices.ToString());
        await Expect(page.Locator("#sweep-panel")).ToBeVisibleAsync();
        await Expect(page.Locator("#who")).ToContainTextAsync("(Operator)");

        await page.GetByTestId("start-sweep").ClickAsync();
        await Expect(page.Locator("#status")).ToHaveTextAsync(SweepAccepted());
        var sweepId = SweepAccepted().Match(await page.Locator("#status").InnerTextAsync()).Groups["id"].Value;

        // The page refreshes itself; no reload: it must show the sweep finishing and what it did.
        var lastSweep = page.GetByTestId("last-sweep");
        await Expect(lastSweep).ToHaveAttributeAsync("data-sweep-id", sweepId, new() { Timeout = 90_000 });
        await Expect(lastSweep).ToHaveAttributeAsync("data-status", "Completed", new() { Timeout = 90_000 });
        await Expect(page.GetByTestId("overdue")).ToHaveTextAsync("0");
        await Expect(page.Locator("#overdue-list td.empty")).ToBeVisibleAsync();
        await Expect(page.Locator("#by-state tr[data-state='Healthy'] td.num")).ToHaveTextAsync((OverviewFleet.HealthyDevices + OverviewFleet.OverdueDevices).ToString());
        await Expect(page.Locator("#by-state tr[data-state='TaskSequenceRunning'] td.num")).ToHaveTextAsync("1");
        await Expect(page.Locator("#by-state tr[data-state='Unreachable'] td.num")).ToHaveTextAsync("1");
        var fixedBySweep = page.Locator("#remediations tr", new() { HasText = "Remediated" });
        await Expect(fixedBySweep).ToHaveCountAsync(OverviewFleet.OverdueDevices);
        await Expect(page.Locator($"#sweeps tr[data-sweep='{sweepId}'][data-status='Completed']")).ToBeVisibleAsync();
        await Expect(page.Locator($"#chart svg g.chart-bar[data-sweep='{sweepId}'] rect")).Not.ToHaveCountAsync(0);
        await Screenshots.KeepAsync(page, "operator-overview-after-sweep");

        // The simulated clients really left provisioning mode: the page showed the truth.
        Assert.All(fleet.Fleet.Devices.Where(d => d.HostName.StartsWith("stuck-", StringComparison.Ordinal)), d => Assert.False(d.InProvisioningMode));
        Assert.True(fleet.Fleet.Find("deploying-01.lab.test")!.InProvisioningMode);
        // Sign-in, dashboard and overview all worked under their Content-Security-Policy, and nothing was refused.
        Assert.Empty(SignedInPages.PolicyRefusals(page));
    }

    [Fact]
    public async Task On_a_device_page_an_operator_probes_and_sees_history_and_a_refused_remediation()
    {
        var id = await DeviceIdAsync("deploying-01.lab.test");
        var page = await SignedInPages.OpenAsync(fleet, fleet.OperatorKey, $"/ui/device.html?id={id}");

        await Expect(page.Locator("#host-name")).ToHaveTextAsync("deploying-01.lab.test");
        await page.GetByTestId("probe").ClickAsync();
        await Expect(page.Locator("#status")).ToHaveTextAsync("Probed: TaskSequenceRunning");
        await Expect(page.Locator("#state .badge")).ToHaveTextAsync("TaskSequenceRunning");
        await Expect(page.Locator("#history tr[data-state='TaskSequenceRunning']")).ToHaveCountAsync(1);

        await page.FillAsync("#remediate-form input[name=justification]", "browser test: must refuse");
        await page.GetByTestId("remediate").ClickAsync();
        await Expect(page.Locator("#status")).ToHaveTextAsync("Remediation: Skipped (TaskSequenceRunning)");
        var refused = page.Locator("#remediations tr", new() { HasText = "browser test: must refuse" });
        await Expect(refused).ToHaveCountAsync(1);
        await Expect(refused).ToContainTextAsync("Skipped");
        await Screenshots.KeepAsync(page, "operator-device-page");
        Assert.True(fleet.Fleet.Find("deploying-01.lab.test")!.InProvisioningMode);
    }

    [Fact]
    public async Task A_reader_sees_everything_read_only()
    {
        var page = await SignedInPages.OpenAsync(fleet, fleet.ReaderKey, "/ui/overview.html");
        await Expect(page.GetByTestId("total")).ToHaveTextAsync(OverviewFleet.TotalDevices.ToString());
        await Expect(page.Locator("#who")).ToContainTextAsync("(Reader)");
        await Expect(page.Locator("#sweep-panel")).ToBeHiddenAsync();
        await Expect(page.Locator("#overdue-list button")).ToHaveCountAsync(0);

        await page.GotoAsync("/hangfire/recurring");
        await Expect(page.Locator("tr", new() { HasText = "fleet-sweep" })).ToBeVisibleAsync();
        await Expect(page.Locator("button[data-url$='/recurring/trigger']")).ToHaveCountAsync(0);
        await Screenshots.KeepAsync(page, "reader-hangfire-recurring");
        await page.GotoAsync("/hangfire");
        await Expect(page.Locator("h1.page-header")).ToBeVisibleAsync();
        Assert.Empty(SignedInPages.PolicyRefusals(page));
    }

    [Fact]
    public async Task Anonymous_visitors_are_sent_to_sign_in_and_a_wrong_key_stays_there()
    {
        var page = await fleet.Chromium.NewPageAsync(fleet.BaseAddress);
        foreach (var path in new[] { "/hangfire", "/ui/overview.html", "/" })
        {
            await page.GotoAsync(path);
            await Expect(page).ToHaveURLAsync(SignedInPages.SignInPage());
        }
        await page.FillAsync("#apiKey", "pfk_not-a-key");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator(".error")).ToBeVisibleAsync();
        await page.GotoAsync("/hangfire");
        await Expect(page).ToHaveURLAsync(SignedInPages.SignInPage());
    }

    private async Task<long> DeviceIdAsync(string hostName)
    {
        using var client = fleet.CreateAdminClient();
        var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/devices?search={Uri.EscapeDataString(hostName)}", Json.Options);
        return page.GetProperty("items")[0].GetProperty("id").GetInt64();
    }

    [GeneratedRegex(@"^Sweep (?<id>\d+) (Queued|Running)")]
    private static partial Regex SweepAccepted();
}
