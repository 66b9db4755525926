using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Scenarios;

namespace ProvisioningFleet.Simulator.Tests;

public sealed class ScenarioTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void The_generator_is_deterministic_for_a_seed_and_honours_the_mix()
    {
        var first = FleetScenario.Generate(10_000, overdue: 0.02, tsRunning: 0.01, unreachable: 0.01, seed: 7, time: _time);
        var second = FleetScenario.Generate(10_000, overdue: 0.02, tsRunning: 0.01, unreachable: 0.01, seed: 7, time: _time);
        var other = FleetScenario.Generate(10_000, overdue: 0.02, tsRunning: 0.01, unreachable: 0.01, seed: 8, time: _time);

        Assert.Equal(first.Select(d => (d.HostName, d.ClientId, d.ProvisioningMode, d.Behavior)), second.Select(d => (d.HostName, d.ClientId, d.ProvisioningMode, d.Behavior)));
        Assert.NotEqual(first.Select(d => d.ClientId), other.Select(d => d.ClientId));
        Assert.Equal(10_000, first.Select(d => d.HostName).Distinct(StringComparer.OrdinalIgnoreCase).Count());

        var now = _time.GetUtcNow();
        var overdue = first.Count(d => d.InProvisioningMode && !d.TaskSequenceRunning
            && DateTimeOffset.FromUnixTimeSeconds(d.ProvisioningEnabledTime!.Value).AddMinutes(d.EffectiveMaxMinutes + 60) < now + d.ClockSkew);
        Assert.InRange(overdue, 150, 250);
        Assert.InRange(first.Count(d => d.TaskSequenceRunning), 60, 140);
        Assert.InRange(first.Count(d => d.Behavior is DeviceBehavior.RefuseConnections or DeviceBehavior.Silent), 60, 140);
        Assert.All(first.Where(d => d.TaskSequenceRunning), d => Assert.True(d.InProvisioningMode));
    }

    [Fact]
    public void A_scenario_file_combines_a_mix_with_hand_written_devices()
    {
        var root = JsonNode.Parse("""
            { "devices": 50, "overdue": "10%", "tsRunning": 0, "unreachable": 0.0, "noClient": 0, "provisioning": 0, "accessDenied": 0, "flaky": 0,
              "seed": 3, "domain": "lab.example", "hostPrefix": "ws-",
              "extraDevices": [
                { "hostName": "ws-00001.lab.example", "provisioningMode": "true", "provisioningEnabledTime": 1700000000, "fixTakesEffect": false },
                { "hostName": "legacy.lab.example", "clientInstalled": false } ] }
            """)!.AsObject();

        var devices = ScenarioFile.Parse(root, _time);

        Assert.Equal(51, devices.Count);
        var replaced = devices.Single(d => d.HostName == "ws-00001.lab.example");
        Assert.False(replaced.FixTakesEffect);
        Assert.Equal(1_700_000_000, replaced.ProvisioningEnabledTime);
        Assert.False(devices.Single(d => d.HostName == "legacy.lab.example").ClientInstalled);
        Assert.All(devices.Where(d => d.HostName != "legacy.lab.example"), d => Assert.EndsWith(".lab.example", d.HostName));
    }

    [Theory]
    [InlineData("""{ "devices": 10, "overdue": "lots" }""", "overdue")]
    [InlineData("""{ "devices": 10, "overdue": 0.8, "tsRunning": 0.5 }""", "at most 1")]
    [InlineData("""{ "devices": 10, "colour": "blue" }""", "colour")]
    [InlineData("""{ "extraDevices": [ { "provisioningMode": "true" } ] }""", "hostName")]
    [InlineData("""{ "extraDevices": [ { "hostName": "x", "faultRate": 2 } ] }""", "faultRate")]
    public void A_bad_scenario_is_refused_with_the_reason(string json, string mentioned)
    {
        var error = Assert.ThrowsAny<Exception>(() => ScenarioFile.Parse(JsonNode.Parse(json)!.AsObject(), _time));

        Assert.True(error is FormatException or ArgumentException);
        Assert.Contains(mentioned, error.Message);
    }

    [Fact]
    public void The_command_line_reads_shares_as_percentages_and_users_with_domains()
    {
        var line = SimulatorCommandLine.Parse(["--devices", "100000", "--overdue", "2%", "--ts-running", "0.01", "--seed", "9",
            "--dead-ts", "0.5%", "--between-reboots", "1%",
            "--http-port", "0", "--user", "LAB\\svc:p:w", "--require-encryption", "--export-csv", "/tmp/x.csv"]);

        Assert.Equal(100_000, line.Mix.Devices);
        Assert.Equal(0.02, line.Mix.Overdue, 6);
        Assert.Equal(0.01, line.Mix.TsRunning, 6);
        Assert.Equal(0.005, line.Mix.DeadTaskSequence, 6);
        Assert.Equal(0.01, line.Mix.BetweenReboots, 6);
        Assert.Equal(9, line.Mix.Seed);
        Assert.Equal(0, line.Options.HttpPort);
        Assert.False(line.Options.AllowUnencrypted);
        Assert.Equal(new Hosting.SimulatedUser("svc", "p:w", "LAB"), Assert.Single(line.Options.Users));
        Assert.Throws<FormatException>(() => SimulatorCommandLine.Parse(["--devices", "-3"]));
        Assert.Throws<FormatException>(() => SimulatorCommandLine.Parse(["--frobnicate"]));
        Assert.Throws<ArgumentException>(() => SimulatorCommandLine.Parse(["--overdue", "150%"]));
    }

    [Fact]
    public async Task The_CSV_export_quotes_what_needs_quoting()
    {
        var device = new SimulatedDevice("odd.corp.example") { Tags = ["a,b", "c\"d"] };
        using var writer = new StringWriter();

        await DeviceListExport.WriteCsvAsync(writer, [device], new DeviceExportSettings(_ => new Uri("http://sim:5985/wsman/odd.corp.example")));

        Assert.Contains("odd.corp.example,http://sim:5985/wsman/odd.corp.example,Http,Basic,simulator,\"a,b;c\"\"d\",true,false", writer.ToString());
    }

    [Fact]
    public void The_mix_models_dead_sequences_and_sequences_between_reboots()
    {
        var fleet = ScenarioFile.Parse((JsonObject)JsonNode.Parse("""
            { "devices": 2000, "overdue": 0, "tsRunning": 0, "unreachable": 0, "noClient": 0, "provisioning": 0, "accessDenied": 0, "flaky": 0,
              "deadTaskSequence": "5%", "betweenReboots": "5%", "seed": 4 }
            """)!, _time);

        var dead = fleet.Where(d => d.TaskSequences.Any(t => t.IsDead)).ToList();
        var betweenReboots = fleet.Where(d => d.TaskSequences.Any(t => t.IsRunning && t.CompletionState is null)).ToList();
        Assert.InRange(dead.Count, 60, 140);
        Assert.InRange(betweenReboots.Count, 60, 140);
        Assert.All(dead.Concat(betweenReboots), d =>
        {
            Assert.True(d.InProvisioningMode);
            Assert.Empty(d.RunningProcesses);
        });
        var now = _time.GetUtcNow();
        // Every dead sequence's device is past its own timeout: the ones to fix.
        Assert.All(dead, d => Assert.False(d.TaskSequenceRunning));
        Assert.All(dead, d => Assert.True(DateTimeOffset.FromUnixTimeSeconds(d.ProvisioningEnabledTime!.Value).AddMinutes(d.EffectiveMaxMinutes + 60) < now + d.ClockSkew));
        Assert.All(betweenReboots, d => Assert.True(d.TaskSequenceRunning));
        Assert.Contains(betweenReboots, d => DateTimeOffset.FromUnixTimeSeconds(d.ProvisioningEnabledTime!.Value).AddMinutes(d.EffectiveMaxMinutes + 60) < now + d.ClockSkew);
    }

    [Fact]
    public void Hand_written_devices_can_fail_their_fix_call_lose_their_registry_and_carry_a_dead_sequence()
    {
        var fleet = ScenarioFile.Parse((JsonObject)JsonNode.Parse("""
            { "devices": 0, "extraDevices": [ { "hostName": "odd.lab.example", "fixCallAnswer": "DropConnection", "registryAfterFix": "KeyDeleted",
              "ccmExecKeyPresent": false, "taskSequences": [ { "state": "Running", "completionState": "Failure" } ] } ] }
            """)!, _time);

        var device = Assert.Single(fleet);
        Assert.Equal(FixCallAnswer.DropConnection, device.FixCallAnswer);
        Assert.Equal(RegistryAfterFix.KeyDeleted, device.RegistryAfterFix);
        Assert.False(device.CcmExecKeyPresent);
        Assert.True(Assert.Single(device.TaskSequences).IsDead);
        var error = Assert.Throws<FormatException>(() => ScenarioFile.Parse((JsonObject)JsonNode.Parse("""
            { "devices": 0, "extraDevices": [ { "hostName": "bad.lab.example", "fixCallAnswer": "Sometimes" } ] }
            """)!, _time));
        Assert.Contains("fixCallAnswer: Must be one of Normal, Fault, DropConnection.", error.Message);
    }
}
