using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using ProvisioningFleet.Testing.Kerberos;

namespace ProvisioningFleet.WsMan.Tests.Kerberos;

/// <summary>
/// The independent peer: Interop/kerberos_winrm_peer.py, a WinRM-shaped acceptor on Debian's
/// python3-gssapi (gss_unwrap_iov / gss_wrap_iov), run as a child process with the test realm's
/// environment. It shares no code with our client or our simulator.
/// </summary>
internal sealed class PythonKerberosPeer : IAsyncDisposable
{
    public const string Python = "/usr/bin/python3";

    private readonly Process _process;

    private PythonKerberosPeer(Process process, int port)
    {
        _process = process;
        Endpoint = new Uri($"http://127.0.0.1:{port}/wsman");
    }

    public Uri Endpoint { get; }

    public static string? SkipReason =>
        TestRealm.SkipReason ?? (HasGssapi.Value ? null : "python3-gssapi is missing: apt-get install python3-gssapi");

    private static readonly Lazy<bool> HasGssapi = new(() =>
    {
        try
        {
            using var check = Process.Start(new ProcessStartInfo(Python, ["-c", "import gssapi.raw.ext_dce"]) { RedirectStandardError = true })!;
            check.WaitForExit(TimeSpan.FromSeconds(20));
            return check.HasExited && check.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public static async Task<PythonKerberosPeer> StartAsync(params string[] options)
    {
        await TestRealm.StartAsync();
        var script = Path.Combine(AppContext.BaseDirectory, "Interop", "kerberos_winrm_peer.py");
        var start = new ProcessStartInfo(Python, [script, Path.Combine(AppContext.BaseDirectory, "Fixtures"), .. options])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        TestRealm.Environment(start);
        var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var first = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (first is null)
        {
            throw new InvalidOperationException("The Kerberos peer did not start: " + await process.StandardError.ReadToEndAsync(timeout.Token));
        }

        _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
        return new PythonKerberosPeer(process, JsonDocument.Parse(first).RootElement.GetProperty("port").GetInt32());
    }

    /// <summary>What the peer saw of each sealed request (header length, RRC, EC, flags, lengths).</summary>
    public async Task<JsonElement[]> FactsAsync()
    {
        using var http = new HttpClient();
        return (await http.GetFromJsonAsync<JsonElement[]>(Endpoint))!;
    }

    public async ValueTask DisposeAsync()
    {
        // The peer exits when its standard input closes; a kill is the fallback.
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}

/// <summary>A test that needs the KDC tools and python3-gssapi.</summary>
public sealed class PythonPeerTheoryAttribute : TheoryAttribute
{
    public PythonPeerTheoryAttribute()
    {
        if (PythonKerberosPeer.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A test that needs the KDC tools and python3-gssapi.</summary>
public sealed class PythonPeerFactAttribute : FactAttribute
{
    public PythonPeerFactAttribute()
    {
        if (PythonKerberosPeer.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
