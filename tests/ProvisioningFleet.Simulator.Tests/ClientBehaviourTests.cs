using Microsoft.Extensions.Time.Testing;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>The simulated ConfigMgr client's own behaviour, on a fake clock.</summary>
public sealed class ClientBehaviourTests : IAsyncLifetime
{
    private const string ProvisioningModeValue =
        "<p:hDefKey>2147483650</p:hDefKey><p:sSubKeyName>SOFTWARE\\Microsoft\\CCM\\CcmExec</p:sSubKeyName><p:sValueName>ProvisioningMode</p:sValueName>";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly HttpClient _http = new();
    private SimulatedFleetHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await SimulatedFleetHost.StartAsync(new SimulatorOptions { TimeProvider = _time, Users = [new SimulatedUser("admin", "P@ssw0rd!")] });

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private SimulatorClient Add(SimulatedDevice device)
    {
        _host.Fleet.Add(device);
        return new SimulatorClient(_http, _host.EndpointFor(device.HostName));
    }

    private static Task<System.Xml.Linq.XElement> SetMode(SimulatorClient client, bool enable) =>
        client.InvokeAsync("root/ccm", "SMS_Client", "SetClientProvisioningMode", $"<p:bEnable>{(enable ? "true" : "false")}</p:bEnable>");

    private static async Task<string?> ReadMode(SimulatorClient client) =>
        SimulatorClient.Out(await client.InvokeAsync("root/default", "StdRegProv", "GetStringValue", ProvisioningModeValue), "sValue");

    [Fact]
    public async Task SetClientProvisioningMode_false_takes_the_client_out_and_is_recorded()
    {
        var device = new SimulatedDevice("fix.corp.example");
        device.EnterProvisioningMode(TimeSpan.FromDays(5));
        var client = Add(device);

        var output = await SetMode(client, enable: false);

        Assert.Equal("SetClientProvisioningMode_OUTPUT", output.Name.LocalName);
        Assert.Equal("false", await ReadMode(client));
        Assert.Equal(string.Empty, device.SystemTaskExcludes);
        var call = Assert.Single(_host.Fleet.Invocations("fix.corp.example"), r => r.Method == "SetClientProvisioningMode");
        Assert.Equal(("root/ccm", "SMS_Client"), (call.Namespace, call.ClassName));
        Assert.Equal("false", call.Parameters["bEnable"]);
        Assert.Equal(_time.GetUtcNow(), call.At);
    }

    [Fact]
    public async Task Enabling_provisioning_mode_stamps_the_enabled_time_in_the_device_clock()
    {
        var device = new SimulatedDevice("enable.corp.example") { ClockSkew = TimeSpan.FromMinutes(-30) };
        var client = Add(device);

        await SetMode(client, enable: true);

        Assert.Equal("true", await ReadMode(client));
        Assert.Equal(_time.GetUtcNow().AddMinutes(-30).ToUnixTimeSeconds(), device.ProvisioningEnabledTime);
    }

    [Fact]
    public async Task When_the_fix_does_not_take_effect_the_call_is_accepted_and_the_mode_stays_on()
    {
        var device = new SimulatedDevice("stubborn.corp.example") { FixTakesEffect = false };
        device.EnterProvisioningMode(TimeSpan.FromDays(3));
        var client = Add(device);

        await SetMode(client, enable: false);

        Assert.Equal("true", await ReadMode(client));
        Assert.Single(_host.Fleet.Invocations("stubborn.corp.example"), r => r.Method == "SetClientProvisioningMode");
    }

    [Fact]
    public async Task TriggerSchedule_is_recorded_and_answered_with_a_nil_ReturnValue()
    {
        var client = Add(new SimulatedDevice("trigger.corp.example"));

        var output = await client.InvokeAsync("root/ccm", "SMS_Client", "TriggerSchedule", "<p:sScheduleID>{00000000-0000-0000-0000-000000000021}</p:sScheduleID>");

        var returnValue = output.Elements().Single(e => e.Name.LocalName == "ReturnValue");
        Assert.Equal("true", returnValue.Attribute(SimulatorClient.Xsi + "nil")?.Value);
        var call = Assert.Single(_host.Fleet.Invocations("trigger.corp.example"), r => r.Method == "TriggerSchedule");
        Assert.Equal("{00000000-0000-0000-0000-000000000021}", call.Parameters["sScheduleID"]);
    }

    [Fact]
    public async Task A_bad_bEnable_is_an_invalid_parameter_fault_and_changes_nothing()
    {
        var device = new SimulatedDevice("badparam.corp.example");
        device.EnterProvisioningMode(TimeSpan.FromDays(3));
        var client = Add(device);

        var (status, reply) = await client.SendAsync(SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "SetClientProvisioningMode", "<p:bEnable>maybe</p:bEnable>"));

        Assert.Equal(500, status);
        Assert.Contains("Code=\"2147749935\"", reply!.ToString());
        Assert.True(device.InProvisioningMode);
    }

    [Fact]
    public async Task A_task_sequence_ends_by_itself_after_its_duration()
    {
        var device = new SimulatedDevice("ts-ends.corp.example")
        {
            RunningProcesses = ["TSManager.exe", "SetupHost.exe"],
            TaskSequences = [SimulatedTaskSequence.RunningUpgrade()],
            TaskSequenceEndsAfter = TimeSpan.FromMinutes(90),
        };
        var client = Add(device);
        device.EnterProvisioningMode(TimeSpan.FromMinutes(30));

        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal("true", await ReadMode(client));
        Assert.True(device.TaskSequenceRunning);

        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("false", await ReadMode(client));
        Assert.False(device.TaskSequenceRunning);
        Assert.Empty(device.RunningProcesses);
        Assert.Equal(SimulatedTaskSequence.Completed, Assert.Single(device.TaskSequences).State);
    }

    [Fact]
    public async Task A_client_leaves_provisioning_mode_after_its_own_timeout_measured_by_its_own_clock()
    {
        var device = new SimulatedDevice("self-exit.corp.example")
        {
            LeavesProvisioningAfterOwnTimeout = true,
            ProvisioningMaxMinutes = 120,
            ClockSkew = TimeSpan.FromMinutes(10),
        };
        var client = Add(device);
        device.EnterProvisioningMode(TimeSpan.FromMinutes(100));

        _time.Advance(TimeSpan.FromMinutes(19));
        Assert.Equal("true", await ReadMode(client));

        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("false", await ReadMode(client));
    }

    [Fact]
    public async Task Without_the_self_exit_a_client_stays_stuck_forever()
    {
        var device = new SimulatedDevice("stuck.corp.example") { ProvisioningMaxMinutes = 60 };
        var client = Add(device);
        device.EnterProvisioningMode(TimeSpan.FromMinutes(10));

        _time.Advance(TimeSpan.FromDays(30));

        Assert.Equal("true", await ReadMode(client));
    }

    [Fact]
    public async Task A_flaky_device_answers_with_WMI_provider_faults()
    {
        var client = Add(new SimulatedDevice("flaky.corp.example") { FaultRate = 1 });

        var (status, reply) = await client.SendAsync(SimulatorClient.InvokeEnvelope("root/default", "StdRegProv", "GetStringValue", ProvisioningModeValue));

        Assert.Equal(500, status);
        Assert.Equal("s:Receiver", reply!.Descendants(SimulatorClient.S + "Value").First().Value);
        Assert.Contains("Code=\"2147749889\"", reply.ToString());
    }
}
