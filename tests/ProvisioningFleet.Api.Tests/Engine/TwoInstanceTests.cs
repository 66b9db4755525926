using System.Net.Http.Json;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Engine;

[Collection(PostgresCollection.Name)]
public sealed class TwoInstanceTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    protected override void ConfigureSettings(IDictionary<string, string?> settings) => EngineFleet.Configure(settings);

    [Fact]
    public async Task Two_instances_on_one_database_never_fix_a_device_twice()
    {
        await using var fleet = await EngineFleet.StartAsync(Api);
        // A second service instance: its own host and Hangfire server, the same database.
        await using var second = new FleetApiFactory(Api.ConnectionString);
        EngineFleet.Configure(second.Settings);
        using var secondAdmin = second.CreateAdminClient();

        var devices = Enumerable.Range(0, 300).Select(i => new SimulatedDevice(fleet.HostName($"pair-{i}")) { Latency = TimeSpan.FromMilliseconds(5) }).ToList();
        var stuck = devices.Where((_, i) => i % 10 == 0).ToList();
        stuck.ForEach(d => d.EnterProvisioningMode(TimeSpan.FromDays(3)));
        await fleet.RegisterAsync(devices);

        // Both instances start sweeps, and the second one is asked by hand to fix the same devices meanwhile.
        var fromFirst = await StartAsync(fleet.Admin, fleet.Tag);
        await EngineFleet.WaitUntilStartedAsync(fleet.Admin, fromFirst);
        var fromSecond = await StartAsync(secondAdmin, fleet.Tag);
        var manual = await Task.WhenAll(stuck.Select(d => secondAdmin.PostAsJsonAsync($"/api/v1/devices/{fleet.IdOf(d)}/remediate", new { })));
        var one = await EngineFleet.WaitForAsync(fleet.Admin, fromFirst);
        var two = await EngineFleet.WaitForAsync(secondAdmin, fromSecond);

        Assert.Equal((SweepStatus.Completed, SweepStatus.Completed), (one.Status, two.Status));
        Assert.Equal((300, 300), (one.Probed, two.Probed));
        Assert.All(stuck, d => Assert.Equal(1, fleet.FixesSentTo(d)));
        Assert.All(devices.Except(stuck), d => Assert.Equal(0, fleet.FixesSentTo(d)));
        Assert.All(stuck, d => Assert.False(d.InProvisioningMode));
        var manualFixes = 0;
        foreach (var answer in manual.Where(m => m.IsSuccessStatusCode))
        {
            manualFixes += (await answer.Content.ReadFromJsonAsync<Remediations.RemediationView>(Json.Options))!.Outcome == RemediationOutcome.Remediated ? 1 : 0;
        }

        var fixes = (await fleet.RemediationsOfAsync(one.Id)).Count(r => r.Outcome == RemediationOutcome.Remediated)
            + (await fleet.RemediationsOfAsync(two.Id)).Count(r => r.Outcome == RemediationOutcome.Remediated)
            + manualFixes;
        Assert.Equal(stuck.Count, fixes);
    }

    private static async Task<long> StartAsync(HttpClient client, string tag)
    {
        var response = await client.PostAsJsonAsync("/api/v1/sweeps", new { tag });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SweepAccepted>(Json.Options))!.Id;
    }
}
