using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.InventorySources;
using ProvisioningFleet.Data.InventorySources;
using ProvisioningFleet.Simulator.AdminService;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.InventorySources;

/// <summary>
/// A simulated ConfigMgr site (AdminService over HTTPS, NTLM) and its machines (WinRM over HTTP,
/// Basic), with credentials for both in the API, under names of its own: tests sharing a class's
/// database never see each other's devices or collections.
/// </summary>
internal sealed class InventorySite : IAsyncDisposable
{
    public const string SiteUser = "cm-reader";
    public const string SitePassword = "Site-Reader-1";
    public const string WinRmUser = "fleet-svc";
    public const string WinRmPassword = "S1mulated-pass";

    private InventorySite(FleetApiFactory api, SimulatedFleetHost simulator, HttpClient admin, string tag)
    {
        Api = api;
        Simulator = simulator;
        Admin = admin;
        Tag = tag;
    }

    public FleetApiFactory Api { get; }
    public SimulatedFleetHost Simulator { get; }
    public SimulatedSite Site => Simulator.Site;
    public HttpClient Admin { get; }

    /// <summary>Every device a source of this site brings carries it.</summary>
    public string Tag { get; }

    public string SiteCredential => "site-" + Tag;
    public string DeviceCredential => "winrm-" + Tag;

    public static async Task<InventorySite> StartAsync(FleetApiFactory api)
    {
        var simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            HttpsPort = 0,
            Users = { new SimulatedUser(SiteUser, SitePassword, "CORP"), new SimulatedUser(WinRmUser, WinRmPassword) },
        });
        var admin = api.CreateAdminClient();
        var tag = "t" + Guid.NewGuid().ToString("N")[..10];
        var site = new InventorySite(api, simulator, admin, tag);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/credentials",
            new { name = site.SiteCredential, userName = SiteUser, password = SitePassword, domain = "CORP" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/credentials",
            new { name = site.DeviceCredential, userName = WinRmUser, password = WinRmPassword, allowedHosts = new[] { "127.0.0.1" } })).StatusCode);
        await admin.PutAsJsonAsync("/api/v1/policy", new { sweepCron = "0 0 1 1 *" });
        return site;
    }

    public string HostName(string name) => $"{name}.{Tag}.test";

    /// <summary>A collection ID of this site alone (8 characters).</summary>
    public string NewCollection()
    {
        var id = "T" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4))[..7];
        Site.AddCollection(id, "Test " + id);
        return id;
    }

    /// <summary>A simulated machine (healthy unless changed) with an active client record in <paramref name="collection"/>.</summary>
    public (SimulatedDevice Device, SiteRecord Record) AddMachine(string name, string collection, Action<SimulatedDevice>? arrange = null,
        Func<SiteRecord, SiteRecord>? record = null)
    {
        var device = new SimulatedDevice(HostName(name));
        arrange?.Invoke(device);
        Simulator.Fleet.Add(device);
        var added = Site.AddFor(device, record);
        Site.AddMembers(collection, added.ResourceId);
        return (device, added);
    }

    /// <summary>A site record without a simulated machine behind it (obsolete records, printers...).</summary>
    public SiteRecord AddRecord(string collection, Func<SiteRecord, SiteRecord> shape)
    {
        var record = Site.Add(shape(new SiteRecord { ResourceId = Site.NextResourceId(), Name = "REC" + Guid.NewGuid().ToString("N")[..6] }));
        Site.AddMembers(collection, record.ResourceId);
        return record;
    }

    public object SourceBody(string name, string[] collections, string onRemoved = "Disable", string? credential = null, bool enabled = true) => new
    {
        name,
        adminServiceUrl = Simulator.AdminServiceUrl.ToString(),
        credential = credential ?? SiteCredential,
        certificateSha256 = Convert.ToHexString(SHA256.HashData(Simulator.HttpsCertificate!.RawData)),
        collectionIds = collections,
        endpointTemplate = new Uri(Simulator.HttpBaseAddress, "/wsman/").ToString() + "{fqdn}",
        authentication = "Basic",
        deviceCredential = DeviceCredential,
        tags = new[] { Tag, "site-ps1" },
        syncCron = "0 0 1 1 *",
        onRemoved,
        enabled,
    };

    public async Task<InventorySourceView> CreateSourceAsync(string name, string[] collections, string onRemoved = "Disable", string? credential = null)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/inventory-sources", SourceBody(name, collections, onRemoved, credential));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<InventorySourceView>(Json.Options))!;
    }

    /// <summary>Starts a sync and waits for its end.</summary>
    public async Task<InventorySyncRunView> SyncAsync(long sourceId, bool dryRun = false)
    {
        var response = await Admin.PostAsJsonAsync($"/api/v1/inventory-sources/{sourceId}/sync", new { dryRun });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var run = (await response.Content.ReadFromJsonAsync<InventorySyncRunView>(Json.Options))!;
        Assert.Equal(dryRun, run.DryRun);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            run = (await Admin.GetFromJsonAsync<InventorySyncRunView>($"/api/v1/inventory-sources/runs/{run.Id}", Json.Options))!;
            if (run.Status is InventorySyncStatus.Completed or InventorySyncStatus.Failed)
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Sync run {run.Id} still {run.Status} after a minute.");
            await Task.Delay(100);
        }
    }

    /// <summary>The devices with this site's tag, by host name.</summary>
    public async Task<Dictionary<string, DeviceView>> DevicesAsync()
    {
        var list = await Admin.GetFromJsonAsync<Lists.PagedList<DeviceView>>($"/api/v1/devices?tag={Tag}&pageSize=500", Json.Options);
        return list!.Items.ToDictionary(d => d.HostName, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Every field of every device of this site, as JSON by host name: equal snapshots mean nothing was written.</summary>
    public async Task<SortedDictionary<string, string>> SnapshotAsync() =>
        new((await DevicesAsync()).ToDictionary(d => d.Key.ToLowerInvariant(), d => Snapshot(d.Value)));

    public static string Snapshot(DeviceView device) => System.Text.Json.JsonSerializer.Serialize(device, Json.Options);

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Simulator.DisposeAsync();
    }
}
