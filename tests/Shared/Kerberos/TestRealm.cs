using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ProvisioningFleet.Testing.Kerberos;

/// <summary>
/// A real MIT Kerberos realm on loopback for the test run (Debian's krb5-kdc and krb5-admin-server):
/// two realms, A.TEST and B.TEST, served by one <c>krb5kdc</c> from a temp folder, started on first use
/// and stopped when the test process exits. MIT reads <c>KRB5_CONFIG</c> and friends once per process
/// at its first use, so the module initializer fixes the paths (and writes krb5.conf) before any test
/// code can touch GSSAPI; NTLM tests in the same process go through the same library and are unaffected.
/// </summary>
public sealed partial class TestRealm
{
    public const string RealmA = "A.TEST";
    public const string RealmB = "B.TEST";
    public const string Password = "Kerb3ros-test-secret";

    /// <summary>A user whose tickets live 4 seconds: its security contexts expire during a test.</summary>
    public const string ShortLivedUser = "brief";

    private static readonly Lock Gate = new();
    private static string _folder = "";
    private static int _port;
    private static Task<TestRealm>? _started;
    private static Process? _kdc;

    public static string Folder => _folder;

    public static string Keytab => Path.Combine(_folder, "http.keytab");

    /// <summary>The service's own identity, as a container would mount it (KRB5_CLIENT_KTNAME).</summary>
    public static string ClientKeytab => Path.Combine(_folder, "client.keytab");

    /// <summary>The principal in <see cref="ClientKeytab"/>: a client without a credential is this account.</summary>
    public const string ServiceAccount = "svc-fleet";

    public static string ConfigFile => Path.Combine(_folder, "krb5.conf");

    public static string KdcProfile => Path.Combine(_folder, "kdc.conf");

    public static int Port => _port;

    /// <summary>Whether the MIT KDC tools are installed (.ci/run installs them).</summary>
    public static bool Available => File.Exists("/usr/sbin/krb5kdc") && File.Exists("/usr/sbin/kdb5_util") && File.Exists("/usr/sbin/kadmin.local");

    public static string? SkipReason => Available ? null : "MIT Kerberos KDC tools are missing: apt-get install krb5-kdc krb5-admin-server krb5-user";

    [ModuleInitializer]
    internal static void ConfigureProcess()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        _folder = Path.Combine(Path.GetTempPath(), $"pf-realm-{System.Environment.ProcessId}-{Guid.NewGuid():N}"[..32]);
        Directory.CreateDirectory(_folder);
        _port = FreePort();
        File.WriteAllText(ConfigFile, $$"""
            [libdefaults]
              default_realm = {{RealmA}}
              dns_lookup_kdc = false
              dns_lookup_realm = false
              dns_canonicalize_hostname = false
              rdns = false
              udp_preference_limit = 1
              kdc_timeout = 2000
              max_retries = 1
              permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
            [realms]
              {{RealmA}} = {
                kdc = 127.0.0.1:{{_port}}
              }
              {{RealmB}} = {
                kdc = 127.0.0.1:{{_port}}
              }
              UNREACHABLE.TEST = {
                kdc = 127.0.0.1:{{FreePort()}}
              }
            [domain_realm]
              .a.test = {{RealmA}}
              .b.test = {{RealmB}}
              .unreachable.test = UNREACHABLE.TEST
            """);
        File.WriteAllText(KdcProfile, $$"""
            [kdcdefaults]
              kdc_ports = {{_port}}
              kdc_tcp_ports = {{_port}}
            [realms]
              {{RealmA}} = {
                database_name = {{_folder}}/a.db
                key_stash_file = {{_folder}}/a.stash
                acl_file = {{_folder}}/kadm5.acl
                supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
              }
              {{RealmB}} = {
                database_name = {{_folder}}/b.db
                key_stash_file = {{_folder}}/b.stash
                acl_file = {{_folder}}/kadm5.acl
                supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
              }
            [logging]
              kdc = FILE:{{_folder}}/kdc.log
            """);
        SetEnvironment("KRB5_CONFIG", ConfigFile);
        SetEnvironment("KRB5_KDC_PROFILE", KdcProfile);
        // The acceptors (simulator, HTTP servers in tests) read the service keys from here.
        SetEnvironment("KRB5_KTNAME", "FILE:" + Keytab);
        // A client without a credential gets the service account's tickets from here by itself.
        SetEnvironment("KRB5_CLIENT_KTNAME", "FILE:" + ClientKeytab);
        // Never the developer's own tickets: a process-wide cache of its own, in memory.
        SetEnvironment("KRB5CCNAME", "MEMORY:provisioningfleet-tests");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
    }

    /// <summary>Starts the KDC (once per process) with users and services in both realms.</summary>
    public static Task<TestRealm> StartAsync()
    {
        lock (Gate)
        {
            return _started ??= Task.Run(StartCoreAsync);
        }
    }

    /// <summary>The principal name of a user of realm <paramref name="realm"/>.</summary>
    public static string User(string name, string realm = RealmA) => $"{name}@{realm}";

    /// <summary>Adds <c>HTTP/host</c> (realm from the host's domain) to the KDC and the acceptors' keytab.</summary>
    public Task AddServiceAsync(string hostName) => AddServicesAsync([hostName]);

    /// <summary>Adds many services with one kadmin.local per realm (it reads its queries from standard input).</summary>
    public static async Task AddServicesAsync(IEnumerable<string> hostNames)
    {
        foreach (var realm in hostNames.GroupBy(h => h.EndsWith(".b.test", StringComparison.OrdinalIgnoreCase) ? RealmB : RealmA))
        {
            var queries = string.Concat(realm.Select(host => $"addprinc -randkey HTTP/{host}\nktadd -k {Keytab} HTTP/{host}\n"));
            await RunAsync("/usr/sbin/kadmin.local", ["-r", realm.Key], queries);
        }
    }

    public Task AddUserAsync(string name, string realm = RealmA, string password = Password) =>
        AdminAsync(realm, $"addprinc -pw {password} {name}");

    private static async Task<TestRealm> StartCoreAsync()
    {
        if (!Available)
        {
            throw new InvalidOperationException(SkipReason);
        }

        var realm = new TestRealm();
        await File.WriteAllTextAsync(Path.Combine(_folder, "kadm5.acl"), "*/admin@A.TEST *\n");
        foreach (var name in new[] { RealmA, RealmB })
        {
            await RunAsync("/usr/sbin/kdb5_util", ["-r", name, "create", "-s", "-P", "master-" + Guid.NewGuid().ToString("N")]);
        }

        await realm.AddUserAsync("alice");
        await realm.AddUserAsync("bob", RealmB);
        await AdminAsync(RealmA, $"addprinc -pw {Password} -maxlife \"4 seconds\" {ShortLivedUser}");
        await AdminAsync(RealmA, $"addprinc -randkey {ServiceAccount}");
        await AdminAsync(RealmA, $"ktadd -k {ClientKeytab} {ServiceAccount}");
        await realm.AddServiceAsync("winrm.a.test");
        await realm.AddServiceAsync("winrm.b.test");

        var start = new ProcessStartInfo("/usr/sbin/krb5kdc", ["-n", "-r", RealmA, "-r", RealmB])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Environment(start);
        _kdc = Process.Start(start) ?? throw new InvalidOperationException("krb5kdc did not start.");
        _kdc.OutputDataReceived += (_, _) => { };
        _kdc.ErrorDataReceived += (_, _) => { };
        _kdc.BeginOutputReadLine();
        _kdc.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, _port);
                return realm;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10) && !_kdc.HasExited)
            {
                await Task.Delay(20);
            }
        }
    }

    private static Task AdminAsync(string realm, string query) => RunAsync("/usr/sbin/kadmin.local", ["-r", realm, "-q", query]);

    private static async Task RunAsync(string program, string[] arguments, string input = "")
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        Environment(start);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        var (stdout, stderr) = (await output, await error);
        // kadmin.local exits 0 when its query fails; MIT's messages then read "... while ...".
        if (process.ExitCode != 0 || stderr.Contains(" while ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stdout}{stderr}");
        }
    }

    /// <summary>The environment a child process needs to use this realm (the python peer, the KDC tools).</summary>
    public static void Environment(ProcessStartInfo start)
    {
        start.Environment["KRB5_CONFIG"] = ConfigFile;
        start.Environment["KRB5_KDC_PROFILE"] = KdcProfile;
        start.Environment["KRB5_KTNAME"] = "FILE:" + Keytab;
        start.Environment["KRB5CCNAME"] = "MEMORY:child";
    }

    private static void Stop()
    {
        try
        {
            if (_kdc is { HasExited: false })
            {
                _kdc.Kill();
                _kdc.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void SetEnvironment(string name, string value)
    {
        System.Environment.SetEnvironmentVariable(name, value);
        // MIT Kerberos reads the C environment with getenv(); .NET's setter does not reach it.
        _ = NativeEnvironment.setenv(name, value, 1);
    }

    private static partial class NativeEnvironment
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int setenv(string name, string value, int overwrite);
    }
}

