using System.Diagnostics;
using Xunit.Sdk;

namespace ProvisioningFleet.Testing;

/// <summary>
/// Polling with a deadline: every wait for something asynchronous in the tests goes through here, so that
/// a condition that never comes fails the test with what was last seen instead of hanging the run.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Reads until <paramref name="done"/> holds and returns that reading; fails the test at the deadline.</summary>
    public static async Task<T> MatchAsync<T>(
        Func<Task<T>> read, Func<T, bool> done, string waitingFor, TimeSpan? deadline = null, TimeSpan? interval = null)
    {
        var within = deadline ?? DefaultDeadline;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (clock.Elapsed > within)
            {
                throw new XunitException($"Still waiting for {waitingFor} after {within}; last seen: {value}");
            }

            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <summary>Reads until the reading is not null and returns it; fails the test at the deadline.</summary>
    public static async Task<T> GetAsync<T>(Func<Task<T?>> read, string waitingFor, TimeSpan? deadline = null, TimeSpan? interval = null)
        where T : struct =>
        (await MatchAsync(read, value => value is not null, waitingFor, deadline, interval))!.Value;

    /// <summary>Waits until <paramref name="condition"/> holds; fails the test at the deadline.</summary>
    public static Task TrueAsync(Func<bool> condition, string waitingFor, TimeSpan? deadline = null, TimeSpan? interval = null) =>
        MatchAsync(() => Task.FromResult(condition()), holds => holds, waitingFor, deadline, interval);
}
