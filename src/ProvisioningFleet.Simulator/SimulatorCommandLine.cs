using System.Globalization;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Simulator.Scenarios;

namespace ProvisioningFleet.Simulator;

/// <summary>The simulator's command line, parsed strictly: an unknown or malformed option is an error.</summary>
internal sealed record SimulatorCommandLine
{
    public const string Usage = """
        ProvisioningFleet.Simulator: a WinRM (WS-Management) server that plays a fleet of ConfigMgr clients.

          --devices N              devices to generate (default 1000)
          --overdue P              share stuck in provisioning mode past their timeout (0.02 or 2%; default 2%)
          --ts-running P           share in provisioning mode with a task sequence running (default 1%)
          --provisioning P         share in provisioning mode inside their window (default 1%)
          --unreachable P          share refusing connections or silent (default 1%)
          --no-client P            share without a ConfigMgr client (default 0.5%)
          --access-denied P        share refusing every credential (default 0.2%)
          --flaky P                share answering a third of requests with WMI faults (default 0.2%)
          --dead-ts P              share stuck past their timeout with a dead sequence's execution request
                                   (Running, CompletionState Failure, no TSManager.exe): to be fixed (default 0)
          --between-reboots P      share in provisioning mode with a running execution request and no
                                   TSManager.exe, as a sequence between two reboots: never to be touched (default 0)
          --seed N                 generator seed (default 1)
          --domain NAME            DNS suffix of generated hosts (default corp.example)
          --scenario FILE          JSON scenario (mix + extraDevices); used instead of the mix options above
          --latency-ms N           delay before every answer, all devices (default 0)
          --listen ADDRESS         listen address (default 127.0.0.1)
          --http-port N            HTTP port (default 5985; 0 = any free port)
          --https-port N           also listen on HTTPS with a generated certificate (0 = any free port)
          --user NAME:PASSWORD     an accepted user, NAME may be DOMAIN\user (repeatable; default simulator:simulator)
          --record-reads           also log registry reads in the invocation log (default: client methods only)
          --no-basic               refuse Basic authentication
          --no-negotiate           refuse NTLM/Negotiate/Kerberos authentication
          --keytab PATH            accept Kerberos with the HTTP/<host> keys in this keytab (KRB5_KTNAME; krb5.conf from KRB5_CONFIG)
          --require-encryption     AllowUnencrypted=false: no Basic over HTTP, Negotiate messages must be sealed
          --export-csv PATH        write the device list in the service's CSV import format, then keep serving
          --export-json PATH       the same as a JSON array
          --export-auth SCHEME     authentication written into the export (default Basic)
          --export-base-url URL    how the service reaches the simulator (e.g. http://simulator:5985; default the listen address)
          --credential NAME        credential name written into the export (default simulator)
        """;

    public FleetMix Mix { get; init; } = new();
    public string? ScenarioPath { get; init; }
    public int LatencyMs { get; init; }
    public SimulatorOptions Options { get; init; } = new() { HttpPort = 5985, RecordReads = false };
    public string? ExportCsv { get; init; }
    public string? ExportJson { get; init; }
    public string ExportAuthentication { get; init; } = "Basic";
    public Uri? ExportBaseUrl { get; init; }
    public string Credential { get; init; } = "simulator";
    public bool Help { get; init; }

    public static SimulatorCommandLine Parse(IReadOnlyList<string> args)
    {
        var line = new SimulatorCommandLine();
        var users = new List<SimulatedUser>();
        for (var i = 0; i < args.Count; i++)
        {
            var option = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{option} needs a value.");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0
                ? n : throw new FormatException($"{option} needs a non-negative integer.");
            double Share() => ScenarioFile.ParseShare(Value(), option);

            line = option switch
            {
                "--help" or "-h" => line with { Help = true },
                "--devices" => line with { Mix = line.Mix with { Devices = Int() } },
                "--overdue" => line with { Mix = line.Mix with { Overdue = Share() } },
                "--ts-running" => line with { Mix = line.Mix with { TsRunning = Share() } },
                "--dead-ts" => line with { Mix = line.Mix with { DeadTaskSequence = Share() } },
                "--between-reboots" => line with { Mix = line.Mix with { BetweenReboots = Share() } },
                "--provisioning" => line with { Mix = line.Mix with { Provisioning = Share() } },
                "--unreachable" => line with { Mix = line.Mix with { Unreachable = Share() } },
                "--no-client" => line with { Mix = line.Mix with { NoClient = Share() } },
                "--access-denied" => line with { Mix = line.Mix with { AccessDenied = Share() } },
                "--flaky" => line with { Mix = line.Mix with { Flaky = Share() } },
                "--seed" => line with { Mix = line.Mix with { Seed = Int() } },
                "--domain" => line with { Mix = line.Mix with { Domain = Value() } },
                "--scenario" => line with { ScenarioPath = Value() },
                "--latency-ms" => line with { LatencyMs = Int() },
                "--listen" => Set(line, o => o.ListenAddress = Value()),
                "--http-port" => Set(line, o => o.HttpPort = Port(Int(), option)),
                "--https-port" => Set(line, o => o.HttpsPort = Port(Int(), option)),
                "--user" => AddUser(line, users, Value()),
                "--record-reads" => Set(line, o => o.RecordReads = true),
                "--no-basic" => Set(line, o => o.AllowBasic = false),
                "--no-negotiate" => Set(line, o => o.AllowNegotiate = false),
                "--keytab" => Set(line, o => o.KerberosKeytab = File.Exists(Value()) ? args[i] : throw new FormatException($"--keytab: no file {args[i]}.")),
                "--require-encryption" => Set(line, o => o.AllowUnencrypted = false),
                "--export-csv" => line with { ExportCsv = Value() },
                "--export-json" => line with { ExportJson = Value() },
                "--export-auth" => line with { ExportAuthentication = Value() is var a && a is "Basic" or "Ntlm" or "Negotiate" or "Kerberos" ? a : throw new FormatException("--export-auth is Basic, Ntlm, Negotiate or Kerberos.") },
                "--credential" => line with { Credential = Value() },
                "--export-base-url" => line with
                {
                    ExportBaseUrl = Uri.TryCreate(Value(), UriKind.Absolute, out var baseUrl) && (baseUrl.Scheme == Uri.UriSchemeHttp || baseUrl.Scheme == Uri.UriSchemeHttps)
                        ? baseUrl : throw new FormatException("--export-base-url needs an absolute http(s) URL."),
                },
                _ => throw new FormatException($"Unknown option {option}. Try --help."),
            };
        }
        line.Options.Users = users.Count > 0 ? users : [new SimulatedUser("simulator", "simulator")];
        line.Mix.Validate();
        return line;
    }

    private static SimulatorCommandLine Set(SimulatorCommandLine line, Action<SimulatorOptions> change)
    {
        change(line.Options);
        return line;
    }

    private static int Port(int port, string option) => port <= 65535 ? port : throw new FormatException($"{option} must be at most 65535.");

    private static SimulatorCommandLine AddUser(SimulatorCommandLine line, List<SimulatedUser> users, string value)
    {
        var colon = value.IndexOf(':');
        if (colon <= 0 || colon == value.Length - 1)
        {
            throw new FormatException("--user is NAME:PASSWORD (NAME may be DOMAIN\\user).");
        }
        var name = value[..colon];
        var slash = name.IndexOf('\\');
        users.Add(slash > 0
            ? new SimulatedUser(name[(slash + 1)..], value[(colon + 1)..], name[..slash])
            : new SimulatedUser(name, value[(colon + 1)..]));
        return line;
    }
}
