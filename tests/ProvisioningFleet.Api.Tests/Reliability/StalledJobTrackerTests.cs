using ProvisioningFleet.Api.Jobs;

namespace ProvisioningFleet.Api.Tests.Reliability;

public sealed class StalledJobTrackerTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 8, 3, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan StalledAfter = TimeSpan.FromMinutes(3);

    [Fact]
    public void A_row_is_stalled_only_when_seen_on_every_look_for_the_whole_time()
    {
        var tracker = new StalledJobTracker();
        Assert.Empty(tracker.Observe([1, 2], Start, StalledAfter));
        Assert.Empty(tracker.Observe([1, 2], Start + TimeSpan.FromMinutes(1), StalledAfter));
        // Row 2 started in between: when it is seen taken again, its time starts over.
        Assert.Empty(tracker.Observe([1], Start + TimeSpan.FromMinutes(2), StalledAfter));
        Assert.Equal([1L], tracker.Observe([1, 2], Start + StalledAfter, StalledAfter));
        Assert.Empty(tracker.Observe([2], Start + StalledAfter + TimeSpan.FromMinutes(2), StalledAfter));
        Assert.Equal([2L], tracker.Observe([2], Start + (2 * StalledAfter), StalledAfter));
    }

    [Fact]
    public void A_released_row_seen_taken_again_is_timed_afresh()
    {
        var tracker = new StalledJobTracker();
        tracker.Observe([7], Start, StalledAfter);
        Assert.Equal([7L], tracker.Observe([7], Start + StalledAfter, StalledAfter));
        Assert.Empty(tracker.Observe([7], Start + StalledAfter + TimeSpan.FromMinutes(1), StalledAfter));
    }
}
