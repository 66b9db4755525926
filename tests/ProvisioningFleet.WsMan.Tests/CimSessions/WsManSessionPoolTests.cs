using Microsoft.Extensions.Time.Testing;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Cim.WsMan;

namespace ProvisioningFleet.WsMan.Tests.CimSessions;

/// <summary>The pool's bounds: sessions are never held for every device of a sweep. Nothing here contacts a device.</summary>
public class WsManSessionPoolTests
{
    private static CimTarget Target(string host) => new(host, CimTarget.DefaultEndpoint(host, CimTransport.Http), CimTransport.Http,
        CimAuthentication.Ntlm, new CimCredential("svc", "pw", "LAB"));

    [Fact]
    public async Task Past_the_cap_the_least_recently_used_idle_sessions_close()
    {
        var time = new FakeTimeProvider();
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings { MaxIdleSessions = 2 }, time);

        foreach (var host in new[] { "pc-a", "pc-b", "pc-c" })
        {
            await using var session = factory.Open(Target(host));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(2, factory.PooledSessions);
    }

    [Fact]
    public async Task A_session_rented_again_is_the_most_recently_used_when_it_returns()
    {
        var time = new FakeTimeProvider();
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings { MaxIdleSessions = 1 }, time);
        await using (factory.Open(Target("pc-a")))
        {
        }

        var a = factory.Open(Target("pc-a"));
        Assert.Equal(1, factory.PooledSessions);
        await using (factory.Open(Target("pc-b")))
        {
        }

        // pc-b went idle first, so pc-a's return closes pc-b: opening pc-b again makes a new session beside pc-a.
        await a.DisposeAsync();
        await using var b = factory.Open(Target("pc-b"));
        Assert.Equal(2, factory.PooledSessions);
    }

    [Fact]
    public async Task Leased_sessions_are_never_closed_under_a_caller()
    {
        var time = new FakeTimeProvider();
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings { MaxIdleSessions = 1 }, time);

        await using var a = factory.Open(Target("pc-a"));
        await using var b = factory.Open(Target("pc-b"));
        await using var c = factory.Open(Target("pc-c"));

        Assert.Equal(3, factory.PooledSessions);
    }

    [Fact]
    public async Task Sessions_held_past_the_cap_close_when_their_leases_end()
    {
        var time = new FakeTimeProvider();
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings { MaxIdleSessions = 2 }, time);

        // No caller rents after these: the returns themselves must bring the pool back under its cap.
        var held = new[] { factory.Open(Target("pc-a")), factory.Open(Target("pc-b")), factory.Open(Target("pc-c")) };
        foreach (var session in held)
        {
            await session.DisposeAsync();
        }

        Assert.Equal(2, factory.PooledSessions);
    }

    [Fact]
    public async Task Idle_sessions_close_after_the_idle_timeout()
    {
        var time = new FakeTimeProvider();
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings { IdleSessionTimeout = TimeSpan.FromMinutes(2) }, time);
        await using (factory.Open(Target("pc-a")))
        await using (factory.Open(Target("pc-b")))
        {
        }

        time.Advance(TimeSpan.FromMinutes(1));
        await using (factory.Open(Target("pc-c")))
        {
            Assert.Equal(3, factory.PooledSessions);
        }

        time.Advance(TimeSpan.FromMinutes(1.5));
        await using (factory.Open(Target("pc-d")))
        {
            Assert.Equal(2, factory.PooledSessions);
        }
    }

    [Fact]
    public async Task Many_callers_past_the_cap_at_once_all_get_sessions_and_the_pool_stays_bounded()
    {
        await using var factory = new WsManCimSessionFactory(new WsManSessionSettings { MaxIdleSessions = 16 }, TimeProvider.System);

        // Trimming while other threads add and remove entries must never fail a caller.
        await Task.WhenAll(Enumerable.Range(0, 64).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                await using var session = factory.Open(Target($"pc-{worker}-{i}"));
                await Task.Yield();
            }
        })));

        Assert.InRange(factory.PooledSessions, 1, 16 + 64);
    }
}
