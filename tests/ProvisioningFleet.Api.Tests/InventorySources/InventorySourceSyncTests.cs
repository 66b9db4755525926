using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.InventorySources;
using ProvisioningFleet.Api.Remediations;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Api.Tests.Engine;
using ProvisioningFleet.Core.Inventory;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.InventorySources;
using ProvisioningFleet.Data.Notifications;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.InventorySources;

/// <summary>Syncs end to end: the API host, its Hangfire jobs and PostgreSQL, against the simulator's AdminService and WinRM.</summary>
[Collection(PostgresCollection.Name)]
public sealed class InventorySourceSyncTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    private InventorySite _site = null!;

    protected override void ConfigureSettings(IDictionary<string, string?> settings) => EngineFleet.Configure(settings);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _site = await InventorySite.StartAsync(Api);
    }

    public override async Task DisposeAsync() => await _site.DisposeAsync();

    [Fact]
    public async Task Members_become_devices_and_follow_renames_new_identities_departures_and_returns()
    {
        var collection = _site.NewCollection();
        var (a, recordA) = _site.AddMachine("pc-a", collection);
        var (_, recordB) = _site.AddMachine("pc-b", collection);
        var (_, recordC) = _site.AddMachine("pc-c", collection);
        var source = await _site.CreateSourceAsync("follow-" + _site.Tag, [collection]);

        var first = await _site.SyncAsync(source.Id);

        Assert.Equal((InventorySyncStatus.Completed, 3, 3, 0, 0, 0), (first.Status, first.Seen, first.Created, first.Updated, first.Disabled, first.Deleted));
        Assert.Empty(first.Skipped);
        var devices = await _site.DevicesAsync();
        var deviceA = devices[a.HostName];
        Assert.Equal(source.Name, deviceA.Source);
        Assert.Equal(a.ClientId, deviceA.ExpectedClientId);
        Assert.Equal(_site.Simulator.EndpointFor(a.HostName).ToString(), deviceA.Endpoint);
        Assert.Equal((Core.Cim.CimAuthentication.Basic, _site.DeviceCredential, true), (deviceA.Authentication, deviceA.Credential, deviceA.Enabled));
        Assert.Equal([_site.Tag, "site-ps1"], deviceA.Tags);

        // The site renames pc-b, re-issues pc-c's client identity and drops pc-a from the collection.
        var renamed = _site.HostName("pc-b2");
        _site.Site.Update(recordB.ResourceId, r => r with { Name = "PC-B2", ResourceNames = [renamed] });
        _site.Site.Update(recordC.ResourceId, r => r with { SmsId = "GUID:0A0A0A0A-0000-0000-0000-00000000000C" });
        _site.Site.RemoveMembers(collection, recordA.ResourceId);

        var second = await _site.SyncAsync(source.Id);

        Assert.Equal((InventorySyncStatus.Completed, 2, 0, 2, 1, 0), (second.Status, second.Seen, second.Created, second.Updated, second.Disabled, second.Deleted));
        var after = await _site.DevicesAsync();
        Assert.False(after[a.HostName].Enabled);
        Assert.Equal(devices[_site.HostName("pc-b")].Id, after[renamed].Id);
        Assert.False(after.ContainsKey(_site.HostName("pc-b")));
        Assert.Equal(_site.Simulator.EndpointFor(renamed).ToString(), after[renamed].Endpoint);
        Assert.Equal("GUID:0A0A0A0A-0000-0000-0000-00000000000C", after[_site.HostName("pc-c")].ExpectedClientId);

        // Back in the collection: enabled again. Then nothing changes, and nothing is written.
        _site.Site.AddMembers(collection, recordA.ResourceId);
        var third = await _site.SyncAsync(source.Id);
        Assert.Equal((0, 1, 0), (third.Created, third.Updated, third.Disabled));
        Assert.True((await _site.DevicesAsync())[a.HostName].Enabled);

        var steady = await _site.SyncAsync(source.Id);
        Assert.Equal((3, 0, 0, 0, 0), (steady.Seen, steady.Created, steady.Updated, steady.Disabled, steady.Deleted));

        var runs = await _site.Admin.GetFromJsonAsync<Lists.PagedList<InventorySyncRunView>>($"/api/v1/inventory-sources/{source.Id}/runs", Json.Options);
        Assert.Equal([steady.Id, third.Id, second.Id, first.Id], runs!.Items.Select(r => r.Id));
        var view = await _site.Admin.GetFromJsonAsync<InventorySourceView>($"/api/v1/inventory-sources/{source.Id}", Json.Options);
        Assert.Equal((3, steady.Id), (view!.Devices, view.LastRun!.Id));
    }

    [Fact]
    public async Task A_source_that_deletes_removes_the_devices_of_departed_members()
    {
        var collection = _site.NewCollection();
        var (gone, record) = _site.AddMachine("leaver", collection);
        var (stays, _) = _site.AddMachine("stayer", collection);
        var source = await _site.CreateSourceAsync("delete-" + _site.Tag, [collection], onRemoved: "Delete");
        Assert.Equal(2, (await _site.SyncAsync(source.Id)).Created);

        _site.Site.RemoveMembers(collection, record.ResourceId);
        var run = await _site.SyncAsync(source.Id);

        Assert.Equal((1, 0, 1), (run.Seen, run.Disabled, run.Deleted));
        var devices = await _site.DevicesAsync();
        Assert.False(devices.ContainsKey(gone.HostName));
        Assert.True(devices.ContainsKey(stays.HostName));
    }

    [Fact]
    public async Task Every_skip_reason_is_named_and_the_active_client_record_wins()
    {
        var collection = _site.NewCollection();
        var (ok, _) = _site.AddMachine("ok", collection);
        _site.AddRecord(collection, r => r with { Name = "OLDPC", ResourceNames = [_site.HostName("oldpc")], IsObsolete = true, IsActive = false });
        _site.AddRecord(collection, r => r with { Name = "SOLD", ResourceNames = [_site.HostName("sold")], IsDecommissioned = true });
        _site.AddRecord(collection, r => r with { Name = "PRINTER", ResourceNames = [_site.HostName("printer")], IsClient = false });
        _site.AddRecord(collection, r => r with { Name = "NODNS", ResourceNames = [] });
        _site.AddRecord(collection, r => r with { Name = "BADNAME", ResourceNames = ["bad name!.example"] });
        // A re-imaged machine: the old record still active=false beside the new active one.
        var (reimaged, current) = _site.AddMachine("reimaged", collection);
        var stale = _site.AddRecord(collection, r => r with { Name = current.Name, ResourceNames = [reimaged.HostName], SmsId = "GUID:OLD", IsActive = false });
        // Two active records under one name: which one is the machine cannot be known.
        _site.AddRecord(collection, r => r with { Name = "TWIN", ResourceNames = [_site.HostName("twin")] });
        _site.AddRecord(collection, r => r with { Name = "TWIN", ResourceNames = [_site.HostName("twin")] });
        var source = await _site.CreateSourceAsync("skips-" + _site.Tag, [collection]);

        var run = await _site.SyncAsync(source.Id);

        Assert.Equal(InventorySyncStatus.Completed, run.Status);
        Assert.Equal(10, run.Seen);
        Assert.Equal(2, run.Created);
        var devices = await _site.DevicesAsync();
        Assert.Equal([ok.HostName, reimaged.HostName], devices.Keys.Order(StringComparer.OrdinalIgnoreCase));
        Assert.Equal(current.SmsId, devices[reimaged.HostName].ExpectedClientId);
        var reasons = run.Skipped.Select(s => (s.Name, s.Reason)).Order().ToList();
        Assert.Equal(
            [("BADNAME", InventorySkipReasons.InvalidName), ("NODNS", MemberSelection.NoDnsName), ("OLDPC", MemberSelection.Obsolete),
             ("PRINTER", MemberSelection.NotAClient), ("REIMAGED", MemberSelection.Duplicate), ("SOLD", MemberSelection.Decommissioned),
             ("TWIN", MemberSelection.Duplicate), ("TWIN", MemberSelection.Duplicate)],
            reasons);
        Assert.Equal(stale.ResourceId, run.Skipped.Single(s => s.Name == "REIMAGED").ResourceId);
        Assert.All(run.Skipped, s => Assert.False(string.IsNullOrWhiteSpace(s.Detail)));
    }

    [Fact]
    public async Task Members_outside_the_device_credentials_hosts_are_skipped_and_a_changed_credential_is_audited_per_device()
    {
        var collection = _site.NewCollection();
        var (machine, _) = _site.AddMachine("scoped", collection);
        var narrow = "narrow-" + _site.Tag;
        var credential = await _site.Admin.PostAsJsonAsync("/api/v1/credentials",
            new { name = narrow, userName = InventorySite.WinRmUser, password = InventorySite.WinRmPassword, allowedHosts = new[] { "*.elsewhere.example" } });
        Assert.Equal(HttpStatusCode.Created, credential.StatusCode);
        var body = System.Text.Json.JsonSerializer.SerializeToNode(_site.SourceBody("narrow-" + _site.Tag, [collection]))!.AsObject();
        body["deviceCredential"] = narrow;
        var created = await _site.Admin.PostAsJsonAsync("/api/v1/inventory-sources", body);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var source = (await created.Content.ReadFromJsonAsync<InventorySourceView>(Json.Options))!;

        var run = await _site.SyncAsync(source.Id);
        Assert.Equal(InventorySyncStatus.Completed, run.Status);
        Assert.Equal(0, run.Created);
        var skip = Assert.Single(run.Skipped);
        Assert.Equal(InventorySkipReasons.OutsideCredentialScope, skip.Reason);
        Assert.Contains("127.0.0.1", skip.Detail, StringComparison.Ordinal);
        Assert.Empty(await _site.DevicesAsync());

        // The source's own device credential instead: the member becomes a device; then back to the narrow one, widened.
        body["deviceCredential"] = _site.DeviceCredential;
        Assert.Equal(HttpStatusCode.OK, (await _site.Admin.PutAsJsonAsync($"/api/v1/inventory-sources/{source.Id}", body)).StatusCode);
        Assert.Equal(1, (await _site.SyncAsync(source.Id)).Created);
        var id = (await _site.Admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/credentials?pageSize=200")).GetProperty("items")
            .EnumerateArray().Single(c => c.GetProperty("name").GetString() == narrow).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await _site.Admin.PutAsJsonAsync($"/api/v1/credentials/{id}",
            new { name = narrow, userName = InventorySite.WinRmUser, password = InventorySite.WinRmPassword, allowedHosts = new[] { "127.0.0.1" } })).StatusCode);
        body["deviceCredential"] = narrow;
        Assert.Equal(HttpStatusCode.OK, (await _site.Admin.PutAsJsonAsync($"/api/v1/inventory-sources/{source.Id}", body)).StatusCode);
        Assert.Equal(1, (await _site.SyncAsync(source.Id)).Updated);

        await using var db = Api.CreateDbContext();
        var change = await db.AuditEntries.AsNoTracking()
            .SingleAsync(e => e.Action == Data.Devices.DeviceReach.ChangeAction && e.Target == "device:" + machine.HostName);
        var details = System.Text.Json.JsonDocument.Parse(change.Details!).RootElement;
        Assert.Equal(_site.DeviceCredential, details.GetProperty("before").GetProperty("credential").GetString());
        Assert.Equal(narrow, details.GetProperty("after").GetProperty("credential").GetString());
        Assert.False(string.IsNullOrEmpty(change.Actor));
    }

    [Fact]
    public async Task Hand_made_devices_are_never_touched_and_two_sources_naming_one_host_is_a_conflict()
    {
        var collection = _site.NewCollection();
        var (handMade, _) = _site.AddMachine("by-hand", collection);
        var (shared, sharedRecord) = _site.AddMachine("shared", collection);
        var created = await _site.Admin.PostAsJsonAsync("/api/v1/devices", new
        {
            hostName = handMade.HostName,
            endpoint = "http://10.0.0.1:5985/wsman",
            authentication = "Ntlm",
            tags = new[] { _site.Tag, "manual" },
            enabled = false,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var before = (await created.Content.ReadFromJsonAsync<DeviceView>(Json.Options))!;
        var first = await _site.CreateSourceAsync("first-" + _site.Tag, [collection]);
        var other = _site.NewCollection();
        _site.Site.AddMembers(other, sharedRecord.ResourceId);
        var second = await _site.CreateSourceAsync("second-" + _site.Tag, [other]);

        var firstRun = await _site.SyncAsync(first.Id);
        var secondRun = await _site.SyncAsync(second.Id);

        Assert.Equal(1, firstRun.Created);
        var handMadeSkip = Assert.Single(firstRun.Skipped);
        Assert.Equal(("BY-HAND", InventorySkipReasons.HandMadeDevice), (handMadeSkip.Name, handMadeSkip.Reason));
        Assert.Equal(0, secondRun.Created);
        var conflict = Assert.Single(secondRun.Skipped);
        Assert.Equal(InventorySkipReasons.OtherSource, conflict.Reason);
        Assert.Contains(first.Name, conflict.Detail);

        var devices = await _site.DevicesAsync();
        Assert.Equal(first.Name, devices[shared.HostName].Source);
        var after = devices[handMade.HostName];
        Assert.Equal(InventorySite.Snapshot(before), InventorySite.Snapshot(after));
        Assert.Null(after.Source);

        // Leaving the collection: the source's device is disabled, the hand-made one still untouched.
        _site.Site.RemoveMembers(collection, sharedRecord.ResourceId);
        Assert.Equal(1, (await _site.SyncAsync(first.Id)).Disabled);
        Assert.Equal(InventorySite.Snapshot(before), InventorySite.Snapshot((await _site.DevicesAsync())[handMade.HostName]));
    }

    [Fact]
    public async Task A_dry_run_reports_what_would_change_and_changes_nothing()
    {
        var collection = _site.NewCollection();
        var (a, recordA) = _site.AddMachine("dry-a", collection);
        _site.AddMachine("dry-b", collection);
        var source = await _site.CreateSourceAsync("dry-" + _site.Tag, [collection], onRemoved: "Delete");

        var dry = await _site.SyncAsync(source.Id, dryRun: true);

        Assert.Equal((InventorySyncStatus.Completed, true, 2, 2), (dry.Status, dry.DryRun, dry.Seen, dry.Created));
        Assert.Empty(await _site.DevicesAsync());

        await _site.SyncAsync(source.Id);
        var synced = await _site.SnapshotAsync();
        _site.Site.RemoveMembers(collection, recordA.ResourceId);
        _site.AddMachine("dry-c", collection);

        var second = await _site.SyncAsync(source.Id, dryRun: true);

        Assert.Equal((1, 1), (second.Created, second.Deleted));
        Assert.Equal(synced, await _site.SnapshotAsync());
        Assert.True((await _site.DevicesAsync()).ContainsKey(a.HostName));
    }

    [Fact]
    public async Task A_sync_that_fails_halfway_or_cannot_read_the_site_changes_nothing()
    {
        var collection = _site.NewCollection();
        var (_, recordA) = _site.AddMachine("half-a", collection);
        var (_, recordB) = _site.AddMachine("half-b", collection);
        var source = await _site.CreateSourceAsync("half-" + _site.Tag, [collection]);
        await _site.SyncAsync(source.Id);
        var before = await _site.SnapshotAsync();

        // The members are read, then the provider fails on the device records.
        _site.Site.RemoveMembers(collection, recordA.ResourceId);
        _site.Site.Update(recordB.ResourceId, r => r with { ResourceNames = [_site.HostName("half-b-renamed")] });
        _site.AddMachine("half-c", collection);
        _site.Site.FailingClass = "SMS_R_System";

        var failed = await _site.SyncAsync(source.Id);

        Assert.Equal(InventorySyncStatus.Failed, failed.Status);
        Assert.Contains("HTTP 500", failed.Error);
        Assert.Equal((0, 0, 0, 0), (failed.Created, failed.Updated, failed.Disabled, failed.Deleted));
        Assert.Equal(before, await _site.SnapshotAsync());

        _site.Site.FailingClass = null;
        var wrongPassword = "wrong-" + _site.Tag;
        await _site.Admin.PostAsJsonAsync("/api/v1/credentials", new { name = wrongPassword, userName = InventorySite.SiteUser, password = "nope", domain = "CORP" });
        var denied = await _site.CreateSourceAsync("denied-" + _site.Tag, [collection], credential: wrongPassword);
        var unknown = await _site.CreateSourceAsync("unknown-" + _site.Tag, [collection, "PS1FFFFF"]);

        var deniedRun = await _site.SyncAsync(denied.Id);
        var unknownRun = await _site.SyncAsync(unknown.Id);

        Assert.Equal(InventorySyncStatus.Failed, deniedRun.Status);
        Assert.Contains("HTTP 401", deniedRun.Error);
        Assert.Equal(InventorySyncStatus.Failed, unknownRun.Status);
        Assert.Contains("no collection 'PS1FFFFF'", unknownRun.Error);
        Assert.Equal(before, await _site.SnapshotAsync());
    }

    [Fact]
    public async Task A_client_that_is_not_the_one_the_site_expects_is_never_remediated()
    {
        var collection = _site.NewCollection();
        // Stale DNS: the name reaches a machine whose client is not the one the site knows under that name.
        var (impostor, _) = _site.AddMachine("impostor", collection, d => d.EnterProvisioningMode(TimeSpan.FromDays(3)),
            r => r with { SmsId = "GUID:11111111-2222-3333-4444-555555555555" });
        var (genuine, _) = _site.AddMachine("genuine", collection, d => d.EnterProvisioningMode(TimeSpan.FromDays(3)));
        var source = await _site.CreateSourceAsync("identity-" + _site.Tag, [collection]);
        await _site.SyncAsync(source.Id);
        var ids = (await _site.DevicesAsync()).ToDictionary(d => d.Key, d => d.Value.Id, StringComparer.OrdinalIgnoreCase);

        var sweepResponse = await _site.Admin.PostAsJsonAsync("/api/v1/sweeps", new { tag = _site.Tag });
        var sweep = await EngineFleet.WaitForAsync(_site.Admin, (await sweepResponse.Content.ReadFromJsonAsync<SweepAccepted>(Json.Options))!.Id);

        Assert.Equal(SweepStatus.Completed, sweep.Status);
        Assert.Equal((1, 1), (sweep.ByState[nameof(DeviceState.IdentityMismatch)], sweep.Remediated));
        var view = await _site.Admin.GetFromJsonAsync<DeviceView>($"/api/v1/devices/{ids[impostor.HostName]}", Json.Options);
        Assert.Equal((DeviceState.IdentityMismatch, impostor.ClientId, "GUID:11111111-2222-3333-4444-555555555555"),
            (view!.State, view.ClientId, view.ExpectedClientId));
        Assert.True(impostor.InProvisioningMode);
        Assert.DoesNotContain(_site.Simulator.Fleet.Invocations(impostor.HostName), i => i.Method == "SetClientProvisioningMode");
        Assert.False(genuine.InProvisioningMode);

        // The operators hear of it: one identity event, in the sweep's transaction, naming both clients.
        await using (var db = _site.Api.CreateDbContext())
        {
            var events = await db.NotificationEvents.AsNoTracking()
                .Where(e => e.DeviceId == ids[impostor.HostName] && e.Type == NotificationEventTypes.DeviceIdentityMismatch).ToListAsync();
            var data = System.Text.Json.JsonDocument.Parse(Assert.Single(events).Data).RootElement;
            Assert.Equal((impostor.ClientId, "GUID:11111111-2222-3333-4444-555555555555", sweep.Id),
                (data.GetProperty("clientId").GetString(), data.GetProperty("expectedClientId").GetString(), data.GetProperty("sweepId").GetInt64()));
        }

        // Not even an Admin's override and ignoreTaskSequence reach it.
        var manual = await _site.Admin.PostAsJsonAsync($"/api/v1/devices/{ids[impostor.HostName]}/remediate",
            new { justification = "try anyway", @override = true, ignoreTaskSequence = true });
        Assert.Equal(HttpStatusCode.OK, manual.StatusCode);
        var remediation = (await manual.Content.ReadFromJsonAsync<RemediationView>(Json.Options))!;
        Assert.Equal((RemediationOutcome.Skipped, RemediationSkipReason.ClientChanged), (remediation.Outcome, remediation.SkipReason));
        Assert.DoesNotContain(_site.Simulator.Fleet.Invocations(impostor.HostName), i => i.Method == "SetClientProvisioningMode");

        var history = await _site.Admin.GetFromJsonAsync<Lists.PagedList<System.Text.Json.JsonElement>>($"/api/v1/devices/{ids[impostor.HostName]}/history", Json.Options);
        Assert.Contains(history!.Items, h => h.GetProperty("toState").GetString() == nameof(DeviceState.IdentityMismatch));
        var summary = await _site.Admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/fleet/summary", Json.Options);
        Assert.True(summary.GetProperty("byState").GetProperty(nameof(DeviceState.IdentityMismatch)).GetInt32() >= 1);
    }
}
