using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using ProvisioningFleet.Bench.Hosting;
using ProvisioningFleet.LocalServices;
using ProvisioningFleet.Simulator.AdminService;
using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.Bench.InventorySources;

/// <summary>
/// Syncs of one inventory source following a collection of many members, by the real service in its
/// own process (so that its memory is measured alone) on a private PostgreSQL, against the simulator's
/// AdminService in this process (HTTPS, NTLM, paged). Three syncs: the first (every member a new device),
/// an unchanged one, and one after 1% of the machines were renamed and 1% left the collection.
/// </summary>
public sealed class InventorySyncBenchmark(InventorySyncBenchmark.Options options)
{
    public sealed record Options(int Members, int PageSize, int BatchSize, string? ApiDll)
    {
        public static Options Parse(string[] args)
        {
            int members = 100_000, pageSize = 1000, batch = 50;
            string? api = null;
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                switch (args[i])
                {
                    case "--members": members = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                    case "--page-size": pageSize = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                    case "--batch": batch = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                    case "--api": api = args[i + 1]; break;
                    default: throw new ArgumentException($"Unknown option {args[i]}; use --members, --page-size, --batch, --api.");
                }
            }

            return new Options(members, pageSize, batch, api);
        }
    }

    private const string Reader = "cm-reader";
    private const string Password = "Bench-reader-1";

    public async Task<int> RunAsync()
    {
        var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"provisioningfleet-bench-{Guid.NewGuid():N}"));
        Console.WriteLine($"date: {DateTimeOffset.UtcNow:u}");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {BenchMachine.CpuModel()}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; load average {BenchMachine.LoadAverage()}");
        Console.WriteLine($"scenario: one collection of {options.Members} members, AdminService pages of {options.PageSize}, SMS_R_System batches of {options.BatchSize}");

        await using var simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            HttpsPort = 0,
            Users = { new SimulatedUser(Reader, Password, "CORP") },
            RecordReads = false,
            EnableInspection = false,
        });
        var site = simulator.Site;
        site.PageSize = options.PageSize;
        site.AddCollection(SiteScenario.Workstations, "Workstations");
        var ids = new List<long>(options.Members);
        for (var i = 0; i < options.Members; i++)
        {
            ids.Add(site.Add(new SiteRecord
            {
                ResourceId = site.NextResourceId(),
                Name = $"PC-{i:000000}",
                ResourceNames = [$"pc-{i:000000}.corp.example"],
                SmsId = $"GUID:{Guid.NewGuid().ToString().ToUpperInvariant()}",
            }).ResourceId);
        }

        site.AddMembers(SiteScenario.Workstations, ids);

        var logPath = Path.Combine(work.FullName, "service.log");
        await using var log = new StreamWriter(logPath) { AutoFlush = true };
        void Log(string line)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }

        await using var service = await BenchService.StartAsync(options.ApiDll ?? LocateApi(), work, new Dictionary<string, string>
        {
            ["Fleet__Inventory__ResourceBatchSize"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["Fleet__Engine__JobPollInterval"] = "00:00:01",
        }, Log, Log);
        Console.WriteLine($"service: pid {service.Process.Id}, log {logPath}");
        using var http = service.CreateAdminClient();
        (await http.PostAsJsonAsync("/api/v1/credentials", new { name = "site", userName = Reader, password = Password, domain = "CORP" })).EnsureSuccessStatusCode();
        var created = await http.PostAsJsonAsync("/api/v1/inventory-sources", new
        {
            name = "bench-site",
            adminServiceUrl = simulator.AdminServiceUrl.ToString(),
            credential = "site",
            certificateSha256 = Convert.ToHexString(SHA256.HashData(simulator.HttpsCertificate!.RawData)),
            collectionIds = new[] { SiteScenario.Workstations },
            endpointTemplate = "http://{fqdn}:5985/wsman",
            tags = new[] { "bench" },
            syncCron = "0 0 1 1 *",
        });
        if (!created.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Source not created: {await created.Content.ReadAsStringAsync()}");
        }

        var sourceId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        Console.WriteLine($"service RSS before the first sync: {ProcessResources.ReadMemory(service.Process.Id).Resident / 1048576.0:F0} MB");

        var pass = await SyncAsync("first sync (every member a new device)", http, service.Process, site, sourceId, expectCreated: options.Members);
        pass &= await SyncAsync("unchanged sync", http, service.Process, site, sourceId, expectCreated: 0);

        var hundredth = options.Members / 100;
        for (var i = 0; i < hundredth; i++)
        {
            site.Update(ids[i], r => r with { Name = $"RN-{i:000000}", ResourceNames = [$"rn-{i:000000}.corp.example"] });
        }

        site.RemoveMembers(SiteScenario.Workstations, ids.Skip(hundredth).Take(hundredth));
        pass &= await SyncAsync("1% renamed, 1% left the collection", http, service.Process, site, sourceId, expectCreated: 0);
        Console.WriteLine(pass ? "PASS: every sync completed with the expected counts" : "FAIL");
        return pass ? 0 : 1;
    }

    private static async Task<bool> SyncAsync(string label, HttpClient http, Process service, SimulatedSite site, long sourceId, int expectCreated)
    {
        var requestsBefore = site.Requests;
        var cpuBefore = ProcessResources.ReadCpuTime(service.Id).TotalSeconds;
        var stopwatch = Stopwatch.StartNew();
        var response = await http.PostAsJsonAsync($"/api/v1/inventory-sources/{sourceId}/sync", new { dryRun = false });
        response.EnsureSuccessStatusCode();
        var runId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        long peak = 0;
        JsonElement run;
        while (true)
        {
            peak = Math.Max(peak, ProcessResources.ReadMemory(service.Id).Resident);
            run = await http.GetFromJsonAsync<JsonElement>($"/api/v1/inventory-sources/runs/{runId}");
            if (run.GetProperty("status").GetString() is "Completed" or "Failed")
            {
                break;
            }

            await Task.Delay(100);
        }

        stopwatch.Stop();
        var started = run.GetProperty("startedAt").GetDateTimeOffset();
        var finished = run.GetProperty("finishedAt").GetDateTimeOffset();
        Console.WriteLine($"{label}: {run.GetProperty("status").GetString()} in {(finished - started).TotalSeconds:F1} s of job time ({stopwatch.Elapsed.TotalSeconds:F1} s from the request, job pick-up included)");
        Console.WriteLine($"  seen {run.GetProperty("seen").GetInt32()}, created {run.GetProperty("created").GetInt32()}, updated {run.GetProperty("updated").GetInt32()}, " +
                          $"disabled {run.GetProperty("disabled").GetInt32()}, deleted {run.GetProperty("deleted").GetInt32()}, skipped {run.GetProperty("skipped").GetArrayLength()}" +
                          (run.GetProperty("error").ValueKind == JsonValueKind.String ? $", error: {run.GetProperty("error").GetString()}" : ""));
        Console.WriteLine($"  AdminService requests {site.Requests - requestsBefore}; service CPU {ProcessResources.ReadCpuTime(service.Id).TotalSeconds - cpuBefore:F1} s; " +
                          $"service peak RSS during the sync {peak / 1048576.0:F0} MB (lifetime VmHWM {ProcessResources.ReadMemory(service.Id).Peak / 1048576.0:F0} MB)");
        return run.GetProperty("status").GetString() == "Completed" && run.GetProperty("created").GetInt32() == expectCreated;
    }

    private static string LocateApi()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ProvisioningFleet.sln")))
        {
            directory = directory.Parent;
        }

        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        return directory is null
            ? throw new InvalidOperationException("Run from the repository, or pass --api path/to/ProvisioningFleet.Api.dll.")
            : Path.Combine(directory.FullName, "src", "ProvisioningFleet.Api", "bin", configuration, "net10.0", "ProvisioningFleet.Api.dll");
    }
}
