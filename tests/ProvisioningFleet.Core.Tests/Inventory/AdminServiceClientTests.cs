using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Inventory;
using ProvisioningFleet.Simulator.AdminService;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.WsMan;

namespace ProvisioningFleet.Core.Tests.Inventory;

/// <summary>The AdminService client against the simulator's AdminService: real HTTPS, real NTLM/Negotiate, real OData.</summary>
public sealed class AdminServiceClientTests : IAsyncLifetime
{
    private const string Reader = "cm-reader";
    private const string Password = "Site-Reader-1";
    private SimulatedFleetHost _simulator = null!;

    public async Task InitializeAsync() =>
        _simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            HttpsPort = 0,
            Users = { new SimulatedUser(Reader, Password, "CORP"), new SimulatedUser("intruder", "Intruder-1", "CORP") },
        });

    public async Task DisposeAsync() => await _simulator.DisposeAsync();

    private AdminServiceClient Client(string user = Reader, string password = Password, AdminServiceOptions? options = null, Uri? url = null) =>
        new(url ?? _simulator.AdminServiceUrl, new CimCredential(user, password, "CORP"),
            new WsManTlsOptions { PinnedSha256Thumbprint = Convert.ToHexString(SHA256.HashData(_simulator.HttpsCertificate!.RawData)) },
            options ?? new AdminServiceOptions(), NullLogger.Instance);

    private SiteRecord AddMachine(string host, string collection, Func<SiteRecord, SiteRecord>? adjust = null)
    {
        var record = _simulator.Site.AddFor(_simulator.Fleet.Add(new SimulatedDevice(host)), adjust);
        _simulator.Site.AddCollection(collection, "Workstations");
        _simulator.Site.AddMembers(collection, record.ResourceId);
        return record;
    }

    [Fact]
    public async Task Reads_members_and_their_DNS_names_over_HTTPS_with_Negotiate()
    {
        var a = AddMachine("pc-a.corp.example", "PS100010");
        var b = AddMachine("pc-b.corp.example", "PS100010", r => r with { IsActive = false });
        AddMachine("pc-c.corp.example", "PS100011");
        using var client = Client();

        var members = await client.ReadMembersAsync("PS100010", CancellationToken.None);
        Assert.Equal([a.ResourceId, b.ResourceId], members.Select(m => m.ResourceId).Order());
        var memberA = members.Single(m => m.ResourceId == a.ResourceId);
        Assert.Equal(("PC-A", "CORP", a.SmsId, true, true, false, false, "PS1"),
            (memberA.Name, memberA.Domain, memberA.SmsId, memberA.IsClient, memberA.IsActive, memberA.IsObsolete, memberA.IsDecommissioned, memberA.SiteCode));
        Assert.False(members.Single(m => m.ResourceId == b.ResourceId).IsActive);

        var systems = await client.ReadSystemsAsync([a.ResourceId, b.ResourceId], CancellationToken.None);
        Assert.Equal(["pc-a.corp.example"], systems[a.ResourceId].ResourceNames!);
        Assert.Equal(b.SmsId, systems[b.ResourceId].SmsUniqueIdentifier);
    }

    [Fact]
    public async Task Follows_next_page_links_and_batches_device_records()
    {
        var ids = Enumerable.Range(0, 25).Select(i => AddMachine($"pc-{i:00}.corp.example", "PS100020").ResourceId).ToList();
        _simulator.Site.PageSize = 10;
        using var client = Client(options: new AdminServiceOptions { ResourceBatchSize = 7 });

        var before = _simulator.Site.Requests;
        var members = await client.ReadMembersAsync("PS100020", CancellationToken.None);
        // One request to check the collection, then three pages of 10, 10 and 5.
        Assert.Equal(1 + 3, _simulator.Site.Requests - before);
        Assert.Equal(ids, members.Select(m => m.ResourceId).Order());

        before = _simulator.Site.Requests;
        var systems = await client.ReadSystemsAsync(ids, CancellationToken.None);
        Assert.Equal(4, _simulator.Site.Requests - before);
        Assert.Equal(ids, systems.Keys.Order());
    }

    [Fact]
    public async Task An_unknown_collection_is_an_error_not_an_empty_fleet()
    {
        using var client = Client();
        var e = await Assert.ThrowsAsync<AdminServiceException>(() => client.ReadMembersAsync("PS1FFFFF", CancellationToken.None));
        Assert.Equal(AdminServiceFailure.UnknownCollection, e.Failure);
        Assert.Contains("PS1FFFFF", e.Message);
    }

    [Fact]
    public async Task A_wrong_password_is_401_and_a_user_without_a_role_is_403()
    {
        _simulator.Site.Readers = new HashSet<string>([Reader], StringComparer.OrdinalIgnoreCase);
        using (var wrong = Client(password: "not-the-password"))
        {
            var e = await Assert.ThrowsAsync<AdminServiceException>(() => wrong.ReadMembersAsync(SimulatedSite.AllSystems, CancellationToken.None));
            Assert.Equal((AdminServiceFailure.Unauthorized, 401), (e.Failure, e.StatusCode));
        }

        using (var intruder = Client("intruder", "Intruder-1"))
        {
            var e = await Assert.ThrowsAsync<AdminServiceException>(() => intruder.ReadMembersAsync(SimulatedSite.AllSystems, CancellationToken.None));
            Assert.Equal((AdminServiceFailure.Forbidden, 403), (e.Failure, e.StatusCode));
        }

        using var reader = Client();
        Assert.NotNull(await reader.ReadMembersAsync(SimulatedSite.AllSystems, CancellationToken.None));
    }

    [Fact]
    public async Task An_unreachable_provider_a_foreign_certificate_and_plain_HTTP_are_clear_errors()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using (var unreachable = Client(url: new Uri($"https://127.0.0.1:{closedPort}/AdminService")))
        {
            var e = await Assert.ThrowsAsync<AdminServiceException>(() => unreachable.ReadMembersAsync(SimulatedSite.AllSystems, CancellationToken.None));
            Assert.Equal(AdminServiceFailure.Unreachable, e.Failure);
        }

        using (var foreign = new AdminServiceClient(_simulator.AdminServiceUrl, new CimCredential(Reader, Password, "CORP"),
                   new WsManTlsOptions { PinnedSha256Thumbprint = new string('A', 64) }, new AdminServiceOptions(), NullLogger.Instance))
        {
            var e = await Assert.ThrowsAsync<AdminServiceException>(() => foreign.ReadMembersAsync(SimulatedSite.AllSystems, CancellationToken.None));
            Assert.Equal(AdminServiceFailure.Tls, e.Failure);
        }

        var plain = Assert.Throws<AdminServiceException>(() => Client(url: new Uri(_simulator.HttpBaseAddress, "/AdminService")));
        Assert.Equal(AdminServiceFailure.Configuration, plain.Failure);
    }

    [Fact]
    public async Task A_reply_over_the_size_bound_is_refused_and_a_slow_one_times_out()
    {
        for (var i = 0; i < 40; i++)
        {
            AddMachine($"big-{i:00}.corp.example", "PS100030");
        }

        using (var small = Client(options: new AdminServiceOptions { MaxReplyBytes = 4096 }))
        {
            var e = await Assert.ThrowsAsync<AdminServiceException>(() => small.ReadMembersAsync("PS100030", CancellationToken.None));
            Assert.Equal(AdminServiceFailure.Protocol, e.Failure);
            Assert.Contains("4096 bytes", e.Message);
        }

        using (var rows = Client(options: new AdminServiceOptions { MaxRows = 30 }))
        {
            var e = await Assert.ThrowsAsync<AdminServiceException>(() => rows.ReadMembersAsync("PS100030", CancellationToken.None));
            Assert.Contains("more than 30 rows", e.Message);
        }

        // A server that accepts the connection and never answers.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = silent.AcceptTcpClientAsync();
        using var slow = Client(url: new Uri($"https://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/AdminService"),
            options: new AdminServiceOptions { RequestTimeout = TimeSpan.FromMilliseconds(500) });
        var timeout = await Assert.ThrowsAsync<AdminServiceException>(() => slow.ReadMembersAsync(SimulatedSite.AllSystems, CancellationToken.None));
        Assert.Equal(AdminServiceFailure.Timeout, timeout.Failure);
        (await accepted).Dispose();
    }

    [Fact]
    public async Task A_provider_failure_is_reported_with_its_status()
    {
        _simulator.Site.FailingClass = "SMS_FullCollectionMembership";
        using var client = Client();
        var e = await Assert.ThrowsAsync<AdminServiceException>(() => client.ReadMembersAsync(SimulatedSite.AllSystems, CancellationToken.None));
        Assert.Equal((AdminServiceFailure.Protocol, 500), (e.Failure, e.StatusCode));
        Assert.Contains("SMS Provider failed", e.Message);
    }
}
