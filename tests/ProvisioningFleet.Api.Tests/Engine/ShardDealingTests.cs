using ProvisioningFleet.Api.Sweeps;

namespace ProvisioningFleet.Api.Tests.Engine;

public sealed class ShardDealingTests
{
    [Theory]
    [InlineData(2000, 40)]
    [InlineData(10, 3)]
    [InlineData(1, 1)]
    [InlineData(501, 2)]
    public void Every_device_lands_in_exactly_one_shard_and_neighbours_in_different_ones(int devices, int shardCount)
    {
        // Ids with gaps, as deletions leave them.
        var ids = Enumerable.Range(0, devices).Select(i => 10L + (3L * i)).ToList();

        var shards = Enumerable.Range(0, shardCount).Select(k => SweepJobs.InterleavedShard(ids, k, shardCount)).ToList();

        Assert.Equal(ids, shards.SelectMany(s => s).Order());
        Assert.InRange(shards.Max(s => s.Length) - shards.Min(s => s.Length), 0, 1);
        var shardOf = shards.SelectMany((s, k) => s.Select(id => (id, k))).ToDictionary(p => p.id, p => p.k);
        Assert.All(ids.Zip(ids.Skip(1)), pair => Assert.True(shardCount == 1 || shardOf[pair.First] != shardOf[pair.Second], $"{pair} share shard {shardOf[pair.First]}"));
    }
}
