using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace ProvisioningFleet.LocalServices;

/// <summary>
/// A private PostgreSQL cluster in a folder of its own, started from the local binaries (initdb +
/// pg_ctl) on a free loopback port; for demo mode and tests, never for production. As root the
/// binaries run as the <c>postgres</c> user, since PostgreSQL refuses to run as root.
/// </summary>
public sealed class LocalPostgresCluster : IAsyncDisposable
{
    public const string SuperUser = "fleet";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private readonly string _binDirectory;
    private readonly bool _deleteOnDispose;
    private bool _stopped;

    private LocalPostgresCluster(string binDirectory, string dataDirectory, int port, string password, bool deleteOnDispose)
    {
        _binDirectory = binDirectory;
        DataDirectory = dataDirectory;
        Port = port;
        Password = password;
        _deleteOnDispose = deleteOnDispose;
    }

    /// <summary>The folder holding the cluster (its <c>pgdata</c>, log and password file).</summary>
    public string DataDirectory { get; }

    public int Port { get; }

    private string Password { get; }

    private string PgData => Path.Combine(DataDirectory, "pgdata");

    /// <summary>What to install when no binaries are found, for error messages.</summary>
    public const string InstallHint =
        "install the PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql; they are looked for on PATH and in /usr/lib/postgresql/*/bin)";

    /// <summary>The folder with <c>initdb</c> and <c>pg_ctl</c>, or null when PostgreSQL is not installed.</summary>
    public static string? FindBinaries()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "pg_ctl"))
            .Where(File.Exists)
            .Select(ResolveLink);
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates = candidates.Concat(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(directory => int.TryParse(Path.GetFileName(directory), out var version) ? version : 0)
                .Select(directory => Path.Combine(directory, "bin", "pg_ctl"))
                .Where(File.Exists));
        }

        return candidates
            .Select(Path.GetDirectoryName)
            .FirstOrDefault(directory => directory is not null && File.Exists(Path.Combine(directory, "initdb")));
    }

    /// <summary>
    /// Starts the cluster in <paramref name="dataDirectory"/>, creating it on first use; a cluster
    /// made earlier in the same folder is started again with its data.
    /// </summary>
    public static async Task<LocalPostgresCluster> StartAsync(string dataDirectory, bool deleteOnDispose, CancellationToken cancellationToken)
    {
        var binDirectory = FindBinaries()
            ?? throw new InvalidOperationException($"No PostgreSQL server found: {InstallHint}.");
        dataDirectory = Path.GetFullPath(dataDirectory);
        Directory.CreateDirectory(dataDirectory);
        var passwordFile = Path.Combine(dataDirectory, "password");
        var password = await ReadOrCreatePasswordAsync(passwordFile, cancellationToken);
        if (RunsAsRoot)
        {
            await EnsureReachableByPostgresUserAsync(dataDirectory, cancellationToken);
        }

        var cluster = new LocalPostgresCluster(binDirectory, dataDirectory, FreePort.OnLoopback(), password, deleteOnDispose);
        if (!File.Exists(Path.Combine(cluster.PgData, "PG_VERSION")))
        {
            await cluster.InitializeAsync(passwordFile, cancellationToken);
        }

        await cluster.StartServerAsync(cancellationToken);
        return cluster;
    }

    /// <summary>A connection string for <paramref name="database"/> on this cluster, as its superuser.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Password = Password,
        Database = database,
    }.ConnectionString;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await RunAsync("pg_ctl", ["stop", "-D", PgData, "-m", "fast", "-w"], cancellationToken);
    }

    /// <summary>Starts a cluster stopped with <see cref="StopAsync"/> again, on the same port, as a database restart does.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        if (!_stopped)
        {
            return;
        }

        await StartServerAsync(cancellationToken);
        _stopped = false;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(CommandTimeout);
        await StopAsync(timeout.Token);
        if (_deleteOnDispose)
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    private async Task InitializeAsync(string passwordFile, CancellationToken cancellationToken)
    {
        if (Directory.Exists(PgData))
        {
            // A previous initdb that died half way leaves a folder initdb refuses to reuse.
            Directory.Delete(PgData, recursive: true);
        }

        await RunAsync("initdb",
            ["-D", PgData, "-U", SuperUser, "--pwfile", passwordFile, "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
            cancellationToken);
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        // Loopback only and no Unix socket: nothing outside this machine can reach it, and no shared socket folder is needed.
        var serverOptions = $"-c port={Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=500";
        await RunAsync("pg_ctl",
            ["start", "-D", PgData, "-l", Path.Combine(DataDirectory, "postgres.log"), "-o", serverOptions, "-w", "-t", "60"],
            cancellationToken);
    }

    private async Task RunAsync(string program, string[] arguments, CancellationToken cancellationToken)
    {
        var executable = Path.Combine(_binDirectory, program);
        var start = RunsAsRoot ? new ProcessStartInfo("runuser") : new ProcessStartInfo(executable);
        if (RunsAsRoot)
        {
            foreach (var argument in (string[])["-u", "postgres", "--", executable])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        // Not the data folder: it may be gone by the time the cluster is stopped, and must not matter to the postgres user.
        start.WorkingDirectory = Path.GetPathRoot(DataDirectory);
        var (exitCode, output) = await RunProcessAsync(start, cancellationToken);
        if (exitCode != 0)
        {
            var log = Path.Combine(DataDirectory, "postgres.log");
            var logTail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "";
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed with exit code {exitCode}:\n{output}\n{logTail}".TrimEnd());
        }
    }

    private static async Task<(int ExitCode, string Output)> RunProcessAsync(ProcessStartInfo start, CancellationToken cancellationToken)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CommandTimeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, (await stdout + await stderr).Trim());
    }

    private static bool RunsAsRoot => Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows();

    private static async Task EnsureReachableByPostgresUserAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var chown = new ProcessStartInfo("chown") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in (string[])["-R", "postgres:postgres", dataDirectory])
        {
            chown.ArgumentList.Add(argument);
        }

        var (exitCode, output) = await RunProcessAsync(chown, cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"Could not give {dataDirectory} to the postgres user (is there one? apt-get install postgresql makes it): {output}");
        }

        var test = new ProcessStartInfo("runuser") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in (string[])["-u", "postgres", "--", "test", "-w", dataDirectory])
        {
            test.ArgumentList.Add(argument);
        }

        if ((await RunProcessAsync(test, cancellationToken)).ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"The postgres user cannot write to {dataDirectory}: a folder above it is closed to other users. Choose a data folder under an open path such as /tmp or /var/lib.");
        }
    }

    private static async Task<string> ReadOrCreatePasswordAsync(string passwordFile, CancellationToken cancellationToken)
    {
        if (File.Exists(passwordFile))
        {
            return (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();
        }

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        // Owner-only from the moment it exists (not narrowed afterwards), and never an existing file reused.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var writer = new StreamWriter(new FileStream(passwordFile, options), Encoding.ASCII))
        {
            await writer.WriteAsync((password + "\n").AsMemory(), cancellationToken);
        }

        return password;
    }

    private static string ResolveLink(string path) =>
        new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
}
