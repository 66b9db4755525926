using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ProvisioningFleet.Api.InventorySources;
using ProvisioningFleet.Api.Tests.Engine;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.InventorySources;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.InventorySources;

[Collection(PostgresCollection.Name)]
public sealed class InventorySourceCrudTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    private InventorySite _site = null!;

    protected override void ConfigureSettings(IDictionary<string, string?> settings) => EngineFleet.Configure(settings);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _site = await InventorySite.StartAsync(Api);
    }

    public override async Task DisposeAsync() => await _site.DisposeAsync();

    private List<RecurringJobDto> RecurringJobs()
    {
        using var connection = Api.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs();
    }

    [Fact]
    public async Task Bad_input_names_every_field_and_creates_nothing()
    {
        var response = await _site.Admin.PostAsJsonAsync("/api/v1/inventory-sources", new
        {
            name = "bad name",
            adminServiceUrl = "http://cm01.example/AdminService",
            credential = "no-such-credential",
            collectionIds = new[] { "TOOLONG123", "" },
            endpointTemplate = "http://fixed-host:5985/wsman",
            authentication = "Kerberos5",
            deviceCredential = "missing",
            tags = new[] { "ok", "not ok" },
            syncCron = "every hour",
            onRemoved = "Archive",
            certificateSha256 = "abc",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order().ToList();
        Assert.Equal(["adminServiceUrl", "authentication", "certificateSha256", "collectionIds", "credential", "deviceCredential", "endpointTemplate",
            "name", "onRemoved", "syncCron", "tags"], fields);
        await using var db = Api.CreateDbContext();
        Assert.False(await db.InventorySources.AnyAsync(s => s.Name == "bad name"));

        var garbage = await _site.Admin.PostAsync("/api/v1/inventory-sources", new StringContent("{\"collectionIds\": 5}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
    }

    [Fact]
    public async Task Sources_are_created_scheduled_replaced_audited_and_deleted_leaving_their_devices_disabled()
    {
        var collection = _site.NewCollection();
        var (machine, _) = _site.AddMachine("crud", collection);
        var source = await _site.CreateSourceAsync("crud-" + _site.Tag, [collection.ToLowerInvariant()]);
        Assert.Equal([collection], source.CollectionIds);
        Assert.Equal(InventoryRemovalAction.Disable, source.OnRemoved);
        Assert.Null(source.LastRun);
        var job = Assert.Single(RecurringJobs(), j => j.Id == InventorySyncSchedule.JobId(source.Id));
        Assert.Equal("0 0 1 1 *", job.Cron);

        var taken = await _site.Admin.PostAsJsonAsync("/api/v1/inventory-sources", _site.SourceBody(source.Name, [collection]));
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);

        using var reader = await Api.CreateClientAsync(ApiKeyRole.Reader);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/inventory-sources/{source.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/api/v1/inventory-sources", _site.SourceBody("reader-" + _site.Tag, [collection]))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync($"/api/v1/inventory-sources/{source.Id}/sync", new { })).StatusCode);
        var listed = await reader.GetFromJsonAsync<Lists.PagedList<InventorySourceView>>("/api/v1/inventory-sources?pageSize=500", Json.Options);
        Assert.Contains(listed!.Items, s => s.Id == source.Id);
        Assert.DoesNotContain(InventorySite.SitePassword, JsonSerializer.Serialize(listed));

        await _site.SyncAsync(source.Id);
        var replaced = await _site.Admin.PutAsJsonAsync($"/api/v1/inventory-sources/{source.Id}", _site.SourceBody(source.Name, [collection], enabled: false));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.False((await replaced.Content.ReadFromJsonAsync<InventorySourceView>(Json.Options))!.Enabled);
        Assert.DoesNotContain(RecurringJobs(), j => j.Id == InventorySyncSchedule.JobId(source.Id));

        // The credentials a source uses cannot be deleted from under it.
        Assert.Equal(HttpStatusCode.Conflict, (await _site.Admin.DeleteAsync($"/api/v1/credentials/{await CredentialIdAsync(_site.SiteCredential)}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await _site.Admin.DeleteAsync($"/api/v1/inventory-sources/{source.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _site.Admin.GetAsync($"/api/v1/inventory-sources/{source.Id}")).StatusCode);
        var device = (await _site.DevicesAsync())[machine.HostName];
        Assert.Equal((null, false), (device.Source, device.Enabled));

        var audit = await _site.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?pageSize=500");
        var actions = audit.GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("target").GetString() == $"inventory-source:{source.Name}")
            .Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("inventory-source.create", actions);
        Assert.Contains("inventory-source.update", actions);
        Assert.Contains("inventory-source.sync", actions);
        Assert.Contains("inventory.sync", actions);
        Assert.Contains("inventory-source.delete", actions);
    }

    [Fact]
    public async Task A_second_sync_while_one_is_under_way_is_409_and_unknown_ids_are_404()
    {
        var source = await _site.CreateSourceAsync("busy-" + _site.Tag, [_site.NewCollection()]);
        await using (var db = Api.CreateDbContext())
        {
            db.InventorySyncRuns.Add(new InventorySyncRun
            {
                SourceId = source.Id,
                Status = InventorySyncStatus.Running,
                Trigger = InventorySyncTrigger.Schedule,
                RequestedBy = "schedule",
                RequestedAt = DateTimeOffset.UtcNow,
                StartedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        var busy = await _site.Admin.PostAsJsonAsync($"/api/v1/inventory-sources/{source.Id}/sync", new { dryRun = true });
        Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
        Assert.Equal("application/problem+json", busy.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _site.Admin.PostAsJsonAsync("/api/v1/inventory-sources/999999/sync", new { })).StatusCode);

        // A run that lost its job long ago no longer blocks the source.
        await using (var db = Api.CreateDbContext())
        {
            await db.InventorySyncRuns.Where(r => r.SourceId == source.Id)
                .ExecuteUpdateAsync(set => set.SetProperty(r => r.RequestedAt, DateTimeOffset.UtcNow - InventorySync.AbandonedAfter - TimeSpan.FromMinutes(1)));
        }

        var run = await _site.SyncAsync(source.Id, dryRun: true);
        Assert.Equal(InventorySyncStatus.Completed, run.Status);
        var runs = await _site.Admin.GetFromJsonAsync<Lists.PagedList<InventorySyncRunView>>($"/api/v1/inventory-sources/{source.Id}/runs", Json.Options);
        Assert.Contains(runs!.Items, r => r.Status == InventorySyncStatus.Failed && r.Error!.StartsWith("Abandoned", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await _site.Admin.GetAsync("/api/v1/inventory-sources/runs/999999")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _site.Admin.GetAsync("/api/v1/inventory-sources/999999/runs")).StatusCode);
    }

    private async Task<long> CredentialIdAsync(string name)
    {
        await using var db = Api.CreateDbContext();
        return await db.Credentials.Where(c => c.Name == name).Select(c => c.Id).SingleAsync();
    }
}
