using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Testing;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Api.Tests.Engine;

[Collection(PostgresCollection.Name)]
public sealed class ProbeEndpointTests(PostgresFixture postgres) : EngineFleetTest(postgres)
{
    private async Task<DeviceView> ProbeAsync(SimulatedDevice device)
    {
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        var response = await operatorClient.PostAsync($"/api/v1/devices/{Fleet.IdOf(device)}/probe", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<DeviceView>(Json.Options))!;
    }

    [Fact]
    public async Task Every_state_is_detected_over_real_WS_Man()
    {
        var now = DateTimeOffset.UtcNow;
        var healthy = await Fleet.AddAsync("healthy", d => d.ProvisioningMode = "False");
        var provisioning = await Fleet.AddAsync("provisioning", d => d.EnterProvisioningMode(TimeSpan.FromMinutes(30)));
        var overdue = await Fleet.AddAsync("overdue", d => { d.EnabledTimeAsQword = true; d.ProvisioningMaxMinutes = 0; d.EnterProvisioningMode(TimeSpan.FromHours(50)); });
        var taskSequence = await Fleet.AddAsync("ts", d => { d.EnterProvisioningMode(TimeSpan.FromDays(4)); d.RunningProcesses = ["TSManager.exe", "SetupHost.exe"]; });
        var noClient = await Fleet.AddAsync("noclient", d => d.ClientInstalled = false);
        var unreachable = await Fleet.AddAsync("down", d => d.Behavior = DeviceBehavior.RefuseConnections);
        var denied = await Fleet.AddAsync("denied", d => d.Behavior = DeviceBehavior.AccessDenied);
        var broken = await Fleet.AddAsync("broken", d => d.Behavior = DeviceBehavior.Malformed);

        var healthyView = await ProbeAsync(healthy);
        Assert.Equal(DeviceState.Healthy, healthyView.State);
        Assert.False(healthyView.InProvisioningMode);
        Assert.NotNull(healthyView.LastCheckedAt);

        var provisioningView = await ProbeAsync(provisioning);
        Assert.Equal(DeviceState.Provisioning, provisioningView.State);
        Assert.Equal(2880 + 60, provisioningView.EffectiveTimeoutMinutes);
        Assert.Equal(provisioning.ClientId, provisioningView.ClientId);
        Assert.InRange(provisioningView.OverdueAt!.Value, now.AddMinutes(2940 - 30 - 1), now.AddMinutes(2940 - 30 + 1));

        var overdueView = await ProbeAsync(overdue);
        Assert.Equal(DeviceState.Overdue, overdueView.State);
        Assert.Equal(0, overdueView.ProvisioningMaxMinutes);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(overdue.ProvisioningEnabledTime!.Value), overdueView.ProvisioningEnabledAt);

        var tsView = await ProbeAsync(taskSequence);
        Assert.Equal(DeviceState.TaskSequenceRunning, tsView.State);
        Assert.True(tsView.TaskSequenceRunning);

        Assert.Equal(DeviceState.NoClient, (await ProbeAsync(noClient)).State);

        var downView = await ProbeAsync(unreachable);
        Assert.Equal(DeviceState.Unreachable, downView.State);
        Assert.Equal(CimErrorCategory.Network, downView.LastError?.Category);

        var deniedView = await ProbeAsync(denied);
        Assert.Equal(DeviceState.AccessDenied, deniedView.State);
        Assert.Equal(CimErrorCategory.AccessDenied, deniedView.LastError?.Category);

        var brokenView = await ProbeAsync(broken);
        Assert.Equal(DeviceState.Error, brokenView.State);
        Assert.Equal(CimErrorCategory.Protocol, brokenView.LastError?.Category);

        // Probing never touches a device.
        Assert.All(Fleet.Simulator.Fleet.AllInvocations(), i => Assert.NotEqual("SetClientProvisioningMode", i.Method));
    }

    [Fact]
    public async Task A_skewed_clock_does_not_make_a_device_overdue()
    {
        // The device's clock is three days behind; by that clock it entered provisioning mode an hour ago.
        var skewed = await Fleet.AddAsync("skewed", d => { d.ClockSkew = TimeSpan.FromDays(-3); d.EnterProvisioningMode(TimeSpan.FromHours(1)); });

        var view = await ProbeAsync(skewed);

        Assert.Equal(DeviceState.Provisioning, view.State);
        Assert.InRange(view.ClockSkewSeconds!.Value, -3 * 86400 - 5, -3 * 86400 + 5);
        Assert.InRange(view.OverdueAt!.Value, DateTimeOffset.UtcNow.AddMinutes(2940 - 60 - 1), DateTimeOffset.UtcNow.AddMinutes(2940 - 60 + 1));
    }

    [Fact]
    public async Task A_probe_of_a_healthy_client_is_one_round_trip()
    {
        var healthy = await Fleet.AddAsync("one-trip");
        var before = Fleet.Simulator.Fleet.Invocations(healthy.HostName).Count;

        await ProbeAsync(healthy);

        var calls = Fleet.Simulator.Fleet.Invocations(healthy.HostName).Skip(before).ToList();
        Assert.Equal(["GetStringValue"], calls.Select(c => c.Method));
    }

    [Fact]
    public async Task History_gets_a_row_only_when_the_state_changes()
    {
        var device = await Fleet.AddAsync("history");
        await ProbeAsync(device);
        await ProbeAsync(device);
        await ProbeAsync(device);
        device.EnterProvisioningMode(TimeSpan.FromDays(3));
        await ProbeAsync(device);
        await ProbeAsync(device);

        var history = await Fleet.Admin.GetFromJsonAsync<PagedList<StateChangeView>>($"/api/v1/devices/{Fleet.IdOf(device)}/history", Json.Options);

        Assert.Equal(2, history!.Total);
        Assert.Equal((DeviceState.Healthy, DeviceState.Overdue), (history.Items[0].FromState, history.Items[0].ToState));
        Assert.Equal((DeviceState.Unknown, DeviceState.Healthy), (history.Items[1].FromState, history.Items[1].ToState));
        await using var db = Api.CreateDbContext();
        Assert.Equal(2, await db.DeviceStateChanges.CountAsync(c => c.DeviceId == Fleet.IdOf(device)));
    }

    [Fact]
    public async Task Probing_needs_an_Operator_and_an_existing_device()
    {
        var device = await Fleet.AddAsync("roles");
        using var reader = await Api.CreateClientAsync(ApiKeyRole.Reader);
        using var anonymous = Api.CreateAnonymousClient();

        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync($"/api/v1/devices/{Fleet.IdOf(device)}/probe", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/api/v1/devices/{Fleet.IdOf(device)}/probe", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Fleet.Admin.PostAsync("/api/v1/devices/999999999/probe", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/devices/{Fleet.IdOf(device)}/history")).StatusCode);
    }
}
