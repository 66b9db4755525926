using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Reliability;

/// <summary>
/// Issue 16, item 15: the service, as its own process, is killed with SIGKILL after SetClientProvisioningMode
/// reached a simulated client and before the remediation record was closed. Started again, it reconciles
/// the record from the device (Remediated, verified), and a manual remediate is no longer refused with 409.
/// </summary>
public sealed class InterruptedRemediationTests
{
    private const string UserName = "fleet-svc";
    private const string Password = "S1mulated-pass";

    [Fact]
    public async Task A_fix_interrupted_by_SIGKILL_is_recorded_as_sent_and_reconciled_after_the_restart()
    {
        await using var simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions { Users = { new SimulatedUser(UserName, Password) } });
        // Each WS-Man answer takes a while, so that the kill lands between the fix and its verification.
        var stuck = new SimulatedDevice("pc-killed.reliability.test") { Latency = TimeSpan.FromSeconds(1.5) }.EnterProvisioningMode(TimeSpan.FromDays(3));
        var lagging = new SimulatedDevice("pc-unreached.reliability.test").EnterProvisioningMode(TimeSpan.FromDays(3));
        simulator.Fleet.Add(stuck);
        simulator.Fleet.Add(lagging);

        await using var service = await FleetServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["Fleet__WinRm__AllowUnencrypted"] = "true",
            ["Fleet__Engine__RemediationTimeout"] = "00:00:20",
            ["Fleet__Engine__StaleRemediationAfter"] = "00:00:25",
            ["Fleet__Engine__ReconcileInterval"] = "00:00:01",
            ["Fleet__Engine__VerifyInterval"] = "00:00:01",
        });
        using var admin = service.CreateAdminClient();
        admin.Timeout = TimeSpan.FromSeconds(60);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "sim", userName = UserName, password = Password, allowedHosts = new[] { "127.0.0.1" } })).StatusCode);
        var id = await AddDeviceAsync(admin, simulator, stuck);
        var otherId = await AddDeviceAsync(admin, simulator, lagging);

        // Mid-fix: the simulator has the call, the service has not closed the record. SIGKILL.
        var remediate = admin.PostAsJsonAsync($"/api/v1/devices/{id}/remediate", new { justification = "crash test" });
        await Eventually.MatchAsync(() => Task.FromResult(FixesSentTo(simulator, stuck)), count => count == 1, "the fix to reach the device", TimeSpan.FromSeconds(90));
        await service.KillAsync();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => remediate);

        // A record left InProgress by a crash before the fix went out (as a database outage leaves one).
        await using (var db = new NpgsqlConnection(service.ConnectionString))
        {
            await db.OpenAsync();
            var row = await ReadRecordAsync(db, id);
            Assert.True((row.Outcome, row.FixSent) == ("InProgress", true), $"{row}");
            await using var insert = new NpgsqlCommand(
                "INSERT INTO remediations (device_id, host_name, trigger, actor, requested_at, outcome, fix_sent, override, ignore_task_sequence, verified) " +
                "VALUES (@device, 'pc-unreached.reliability.test', 'Manual', 'test', now() - interval '1 hour', 'InProgress', false, false, false, false)", db);
            insert.Parameters.AddWithValue("device", otherId);
            await insert.ExecuteNonQueryAsync();
        }

        await service.StartAgainAsync();
        await using (var db = new NpgsqlConnection(service.ConnectionString))
        {
            await db.OpenAsync();
            var fixedRecord = await Eventually.MatchAsync(() => ReadRecordAsync(db, id), r => r.Outcome != "InProgress", "the killed fix to be reconciled", TimeSpan.FromSeconds(90));
            Assert.Equal(("Remediated", true, true), (fixedRecord.Outcome, fixedRecord.FixSent, fixedRecord.Verified));
            var notSent = await Eventually.MatchAsync(() => ReadRecordAsync(db, otherId), r => r.Outcome != "InProgress", "the unsent fix to be reconciled");
            Assert.Equal(("Failed", false, false), (notSent.Outcome, notSent.FixSent, notSent.Verified));
            Assert.Contains("still in provisioning mode", notSent.Error, StringComparison.Ordinal);

            // Closing a record tells the operators, as a live fix would: one event each, in the closing transaction.
            Assert.Equal(["remediation.succeeded"], await EventTypesAsync(db, id));
            Assert.Equal(["remediation.failed"], await EventTypesAsync(db, otherId));
        }

        Assert.Equal(1, FixesSentTo(simulator, stuck));
        Assert.False(stuck.InProvisioningMode);

        // The device that was never fixed is fixed on request now, not refused with 409.
        var answer = await admin.PostAsJsonAsync($"/api/v1/devices/{otherId}/remediate", new { justification = "after the crash" });
        var view = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
        Assert.True(answer.StatusCode == HttpStatusCode.OK, view.ToString());
        Assert.Equal("Remediated", view.GetProperty("outcome").GetString());
        Assert.Equal(1, FixesSentTo(simulator, lagging));
    }

    private static int FixesSentTo(SimulatedFleetHost simulator, SimulatedDevice device) =>
        simulator.Fleet.Invocations(device.HostName).Count(i => i.Method == "SetClientProvisioningMode");

    private static async Task<long> AddDeviceAsync(HttpClient admin, SimulatedFleetHost simulator, SimulatedDevice device)
    {
        var created = await admin.PostAsJsonAsync("/api/v1/devices", new
        {
            hostName = device.HostName,
            endpoint = simulator.EndpointFor(device.HostName).ToString(),
            transport = "Http",
            authentication = "Basic",
            credential = "sim",
        });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }

    private static async Task<List<string>> EventTypesAsync(NpgsqlConnection db, long deviceId)
    {
        await using var read = new NpgsqlCommand("SELECT type FROM notification_events WHERE device_id = @device AND type LIKE 'remediation.%' ORDER BY id", db);
        read.Parameters.AddWithValue("device", deviceId);
        await using var reader = await read.ExecuteReaderAsync();
        var types = new List<string>();
        while (await reader.ReadAsync())
        {
            types.Add(reader.GetString(0));
        }

        return types;
    }

    private static async Task<(string Outcome, bool FixSent, bool Verified, string Error)> ReadRecordAsync(NpgsqlConnection db, long deviceId)
    {
        await using var read = new NpgsqlCommand(
            "SELECT outcome, fix_sent, verified, coalesce(error_message, '') FROM remediations WHERE device_id = @device ORDER BY id LIMIT 1", db);
        read.Parameters.AddWithValue("device", deviceId);
        await using var reader = await read.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"No remediation of device {deviceId}");
        return (reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetString(3));
    }
}
