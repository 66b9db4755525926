using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Paging;

/// <summary>#16 item 20: many readers of one page cost one read per max age; a write through the API is seen at once.</summary>
public sealed class SharedReadsTests
{
    [Fact]
    public async Task Thirty_two_readers_of_one_key_share_one_read()
    {
        var reads = new SharedReads<int>(new FakeTimeProvider(), TimeSpan.FromSeconds(1));
        var calls = 0;
        var release = new TaskCompletionSource();
        async Task<int> ReadAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return 42;
        }

        var readers = Enumerable.Range(0, 32).Select(_ => Task.Run(() => reads.ReadAsync("page", ReadAsync, CancellationToken.None))).ToArray();
        await Task.Delay(100);
        release.SetResult();
        Assert.All(await Task.WhenAll(readers), value => Assert.Equal(42, value));
        Assert.Equal(1, calls);
        Assert.Equal(42, await reads.ReadAsync("page", ReadAsync, CancellationToken.None));
        Assert.Equal(1, calls);
        Assert.Equal(42, await reads.ReadAsync("another page", ReadAsync, CancellationToken.None));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task A_value_is_read_again_after_its_age_after_an_invalidation_and_after_a_failure()
    {
        var time = new FakeTimeProvider();
        var reads = new SharedReads<int>(time, TimeSpan.FromSeconds(1));
        var calls = 0;
        Task<int> ReadAsync(CancellationToken cancellationToken) => Task.FromResult(Interlocked.Increment(ref calls));

        Assert.Equal(1, await reads.ReadAsync("k", ReadAsync, CancellationToken.None));
        time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(1, await reads.ReadAsync("k", ReadAsync, CancellationToken.None));
        time.Advance(TimeSpan.FromMilliseconds(200));
        await WaitUntilAsync(async () => await reads.ReadAsync("k", ReadAsync, CancellationToken.None) == 2);
        reads.Invalidate();
        Assert.Equal(3, await reads.ReadAsync("k", ReadAsync, CancellationToken.None));

        await Assert.ThrowsAsync<InvalidOperationException>(() => reads.ReadAsync("bad", _ => throw new InvalidOperationException("down"), CancellationToken.None));
        Assert.Equal(4, await reads.ReadAsync("bad", ReadAsync, CancellationToken.None));

        var everyTime = new SharedReads<int>(time, TimeSpan.Zero);
        Assert.Equal(5, await everyTime.ReadAsync("k", ReadAsync, CancellationToken.None));
        Assert.Equal(6, await everyTime.ReadAsync("k", ReadAsync, CancellationToken.None));
    }

    [Fact]
    public async Task Past_its_age_a_value_is_served_while_it_is_read_again_in_the_background_but_not_after_an_invalidation()
    {
        var time = new FakeTimeProvider();
        var reads = new SharedReads<int>(time, TimeSpan.FromSeconds(1));
        Assert.Equal(1, await reads.ReadAsync("k", _ => Task.FromResult(1), CancellationToken.None));

        time.Advance(TimeSpan.FromSeconds(2));
        var next = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var refreshes = 0;
        Task<int> Refresh(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref refreshes);
            Assert.False(cancellationToken.CanBeCanceled);
            return next.Task;
        }

        // No reader waits: the one that finds it old starts the next read and is answered with the kept value.
        Assert.Equal(1, await reads.ReadAsync("k", Refresh, CancellationToken.None));
        Assert.Equal(1, await reads.ReadAsync("k", Refresh, CancellationToken.None));
        await WaitUntilAsync(() => Volatile.Read(ref refreshes) == 1);
        next.SetResult(2);
        await WaitUntilAsync(async () => await reads.ReadAsync("k", _ => Task.FromResult(-1), CancellationToken.None) == 2);
        Assert.Equal(1, refreshes);

        // A failed background read is not kept, and the value stays old.
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, await reads.ReadAsync("k", _ => Task.FromException<int>(new InvalidOperationException("down")), CancellationToken.None));

        // Too old even for the grace: the reader waits for a read of its own.
        time.Advance(TimeSpan.FromSeconds(1) + SharedReads<int>.StaleGrace + TimeSpan.FromSeconds(1));
        Assert.Equal(3, await reads.ReadAsync("k", _ => Task.FromResult(3), CancellationToken.None));

        // A write through the API: nobody is served the old value, even while the next read is in flight.
        reads.Invalidate();
        var afterWrite = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = reads.ReadAsync("k", _ => afterWrite.Task, CancellationToken.None);
        var reader = reads.ReadAsync("k", _ => Task.FromResult(-1), CancellationToken.None);
        Assert.False(reading.IsCompleted);
        Assert.False(reader.IsCompleted);
        afterWrite.SetResult(4);
        Assert.Equal(4, await reading);
        Assert.Equal(4, await reader);
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 500 && !await condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(await condition());
    }

    [Fact]
    public async Task Keys_are_bounded()
    {
        var reads = new SharedReads<string>(new FakeTimeProvider(), TimeSpan.FromMinutes(1), maxKeys: 4);
        var calls = 0;
        for (var i = 0; i < 100; i++)
        {
            await reads.ReadAsync($"search-{i}", _ => Task.FromResult($"{Interlocked.Increment(ref calls)}"), CancellationToken.None);
        }

        // Past the bound the kept values were dropped: an early key is read again.
        Assert.Equal("101", await reads.ReadAsync("search-0", _ => Task.FromResult($"{Interlocked.Increment(ref calls)}"), CancellationToken.None));
    }
}

/// <summary>The device list through the API with a long max age: a sweep's writes wait for the age, the API's own do not.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DeviceListSharedReadsTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    protected override void ConfigureSettings(IDictionary<string, string?> settings) =>
        settings[DeviceEndpoints.ListMaxAgeSetting] = "00:10:00";

    [Fact]
    public async Task A_page_is_kept_for_its_age_and_dropped_by_a_write_through_the_api()
    {
        using var admin = Api.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "shared-1.corp.example" })).StatusCode);
        const string page = "/api/v1/devices?search=shared-&state=Unknown";
        Assert.Equal(1, await TotalAsync(admin, page));

        // As a sweep writes: straight to the database, past the API.
        await using (var db = Api.CreateDbContext())
        {
            await db.Devices.Where(d => d.HostNameKey == "shared-1.corp.example").ExecuteUpdateAsync(d => d.SetProperty(x => x.State, DeviceState.Healthy));
        }

        Assert.Equal(1, await TotalAsync(admin, page));
        Assert.Equal(1, await TotalAsync(admin, "/api/v1/devices?state=Unknown&search=SHARED-"));

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "shared-2.corp.example" })).StatusCode);
        Assert.Equal(1, await TotalAsync(admin, page));
        Assert.Equal(2, await TotalAsync(admin, "/api/v1/devices?search=shared-"));
        var list = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>(page);
        Assert.Equal("shared-2.corp.example", list.GetProperty("items")[0].GetProperty("hostName").GetString());
    }

    private static async Task<int> TotalAsync(HttpClient client, string url) =>
        (await client.GetFromJsonAsync<System.Text.Json.JsonElement>(url)).GetProperty("total").GetInt32();
}
