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
        Assert.Contains("The WMI service returned an 'invalid method parameters' error.", reply!.ToString());
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
        Assert.Contains("The WMI service returned a 'generic failure' error.", reply.ToString());
    }

    [Fact]
    public async Task A_dead_sequence_leaves_a_running_request_with_CompletionState_Failure_and_no_live_sequence()
    {
        var device = new SimulatedDevice("dead-ts.corp.example") { TaskSequences = [SimulatedTaskSequence.Dead()] };
        device.EnterProvisioningMode(TimeSpan.FromDays(5));
        var client = Add(device);

        var response = await client.OkAsync(SimulatorClient.EnumerateEnvelope(SimulatorClient.Wmi + "root/ccm/SoftMgmtAgent/*", "SELECT * FROM CCM_TSExecutionRequest"));

        var request = Assert.Single(response.Elements().Where(e => e.Name.LocalName == "Items").SelectMany(i => i.Elements()));
        Assert.Equal("Running", SimulatorClient.Out(request, "State"));
        Assert.Equal("Failure", SimulatorClient.Out(request, "CompletionState"));
        Assert.False(device.TaskSequenceRunning);
    }

    [Fact]
    public async Task A_sequence_between_two_reboots_is_a_running_request_without_completion_state_and_without_TSManager()
    {
        var device = new SimulatedDevice("reboot-ts.corp.example") { TaskSequences = [SimulatedTaskSequence.RunningUpgrade()] };
        device.EnterProvisioningMode(TimeSpan.FromMinutes(20));
        var client = Add(device);

        var requests = await client.OkAsync(SimulatorClient.EnumerateEnvelope(SimulatorClient.Wmi + "root/ccm/SoftMgmtAgent/*", "SELECT * FROM CCM_TSExecutionRequest"));
        var processes = await client.OkAsync(SimulatorClient.EnumerateEnvelope(SimulatorClient.Wmi + "root/cimv2/*", "SELECT Name FROM Win32_Process WHERE Name = 'TSManager.exe'"));

        var request = Assert.Single(requests.Elements().Where(e => e.Name.LocalName == "Items").SelectMany(i => i.Elements()));
        Assert.Null(SimulatorClient.Out(request, "CompletionState"));
        Assert.Empty(processes.Elements().Where(e => e.Name.LocalName == "Items").SelectMany(i => i.Elements()));
        Assert.True(device.TaskSequenceRunning);
    }

    [Fact]
    public async Task A_fix_call_that_faults_after_taking_effect_answers_RPC_unavailable_and_the_client_is_out()
    {
        var device = new SimulatedDevice("fix-fault.corp.example") { FixCallAnswer = FixCallAnswer.Fault };
        device.EnterProvisioningMode(TimeSpan.FromDays(5));
        var client = Add(device);

        var (status, reply) = await client.SendAsync(SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "SetClientProvisioningMode", "<p:bEnable>false</p:bEnable>"));

        Assert.Equal(500, status);
        Assert.Contains("2150858778", reply!.ToString());
        Assert.Equal("false", await ReadMode(client));
        Assert.Single(_host.Fleet.Invocations("fix-fault.corp.example"), r => r.Method == "SetClientProvisioningMode");
    }

    [Fact]
    public async Task A_fix_call_that_drops_the_connection_after_taking_effect_gets_no_answer_and_the_client_is_out()
    {
        var device = new SimulatedDevice("fix-drop.corp.example") { FixCallAnswer = FixCallAnswer.DropConnection };
        device.EnterProvisioningMode(TimeSpan.FromDays(5));
        var client = Add(device);

        await Assert.ThrowsAsync<HttpRequestException>(() =>
            client.SendAsync(SimulatorClient.InvokeEnvelope("root/ccm", "SMS_Client", "SetClientProvisioningMode", "<p:bEnable>false</p:bEnable>")));

        Assert.False(device.InProvisioningMode);
        Assert.Single(_host.Fleet.Invocations("fix-drop.corp.example"), r => r.Method == "SetClientProvisioningMode");
    }

    [Theory]
    [InlineData(RegistryAfterFix.ValueDeleted, "1")]
    [InlineData(RegistryAfterFix.KeyDeleted, "2")]
    public async Task A_fix_can_leave_the_value_or_the_whole_key_missing(RegistryAfterFix after, string returnValue)
    {
        var device = new SimulatedDevice($"fix-{after}.corp.example".ToLowerInvariant()) { RegistryAfterFix = after };
        device.EnterProvisioningMode(TimeSpan.FromDays(5));
        var client = Add(device);

        await SetMode(client, enable: false);
        var read = await client.InvokeAsync("root/default", "StdRegProv", "GetStringValue", ProvisioningModeValue);

        Assert.Equal(returnValue, SimulatorClient.Out(read, "ReturnValue"));
        Assert.Null(SimulatorClient.Out(read, "sValue"));
        // root\ccm still answers: the client's WMI side is there, its registry key or value is not.
        var clients = await client.OkAsync(SimulatorClient.EnumerateEnvelope(SimulatorClient.Wmi + "root/ccm/*", "SELECT ClientId FROM CCM_Client"));
        Assert.Single(clients.Elements().Where(e => e.Name.LocalName == "Items").SelectMany(i => i.Elements()));
    }

    [Fact]
    public async Task An_option_marked_MustComply_on_a_WMI_resource_is_refused_as_Windows_may()
    {
        var client = Add(new SimulatedDevice("mustcomply.corp.example"));
        var uri = SimulatorClient.Wmi + "root/cimv2/Win32_OperatingSystem";

        var (status, reply) = await client.SendAsync(SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", uri, string.Empty,
            extraHeaders: "<w:OptionSet><w:Option Name=\"msftwinrm:UsePreciseErrorCodes\" MustComply=\"true\">true</w:Option></w:OptionSet>"));

        Assert.Equal(500, status);
        Assert.Equal("w:InvalidOptions", reply!.Descendants(SimulatorClient.S + "Subcode").Single().Element(SimulatorClient.S + "Value")!.Value);
        Assert.Contains("Code=\"2150858809\"", reply.ToString());
    }
}
