using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing;
using static Microsoft.Playwright.Assertions;

namespace ProvisioningFleet.Browser.Tests;

/// <summary>An Admin in a real (headless) Chromium: the overview page lists the inventory sources and syncs one on request.</summary>
[Collection(OverviewFleetCollection.Name)]
public sealed class InventorySourceJourneyTests(OverviewFleet fleet)
{
    static InventorySourceJourneyTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_admin_sees_a_source_and_its_counts_and_syncs_it_now()
    {
        // A site of its own whose collection is empty: the shared fleet's device counts stay as the other tests expect.
        await using var site = await SimulatedFleetHost.StartAsync(new SimulatorOptions { HttpsPort = 0, Users = [new SimulatedUser("cm-browser", "cm-browser-password", "CORP")] });
        site.Site.AddCollection("BRW00001", "Empty workstations");
        using var admin = fleet.CreateAdminClient();
        (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "cm-browser", userName = "cm-browser", password = "cm-browser-password", domain = "CORP" })).EnsureSuccessStatusCode();
        var created = await admin.PostAsJsonAsync("/api/v1/inventory-sources", new
        {
            name = "browser-site",
            adminServiceUrl = site.AdminServiceUrl.ToString(),
            credential = "cm-browser",
            certificateSha256 = Convert.ToHexString(SHA256.HashData(site.HttpsCertificate!.RawData)),
            collectionIds = new[] { "BRW00001" },
            endpointTemplate = "http://{fqdn}:5985/wsman",
            syncCron = "0 0 1 1 *",
        });
        created.EnsureSuccessStatusCode();
        var sourceId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var page = await SignedInPages.OpenAsync(fleet, FleetApiFactory.AdminApiKey, "/ui/overview.html");
        var row = page.Locator($"#inventory-sources tr[data-source='{sourceId}']");
        await Expect(row).ToContainTextAsync("browser-site");
        await Expect(row).ToContainTextAsync("never");

        await row.GetByTestId("sync-now").ClickAsync();
        await Expect(page.Locator("#status")).ToContainTextAsync("browser-site: sync");
        // The page refreshes itself: the run finishes and its counts appear without a reload.
        await Expect(row).ToHaveAttributeAsync("data-status", "Completed", new() { Timeout = 60_000 });
        await Expect(row.Locator("td.num").First).ToHaveTextAsync("0");
        await Screenshots.KeepAsync(page, "admin-overview-inventory-source-synced");

        var runs = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/inventory-sources/{sourceId}/runs");
        var run = runs.GetProperty("items").EnumerateArray().Single();
        Assert.Equal(("Manual", "Completed", 0), (run.GetProperty("trigger").GetString(), run.GetProperty("status").GetString(), run.GetProperty("seen").GetInt32()));
        Assert.Contains("key", run.GetProperty("requestedBy").GetString());

        (await admin.DeleteAsync($"/api/v1/inventory-sources/{sourceId}")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_reader_sees_the_sources_without_the_sync_action()
    {
        var page = await SignedInPages.OpenAsync(fleet, fleet.ReaderKey, "/ui/overview.html");
        await Expect(page.GetByTestId("inventory-sources")).ToBeVisibleAsync();
        await Expect(page.Locator("table[data-testid='inventory-sources'] th.admin-only")).ToBeHiddenAsync();
        await Expect(page.GetByTestId("sync-now")).ToHaveCountAsync(0);
    }
}
