using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ProvisioningFleet.LocalServices;

/// <summary>
/// The built service (ProvisioningFleet.Api.dll) as a child process, configured the way an operator
/// does it (environment variables and arguments), with its output collected and a SIGTERM to stop it,
/// as an orchestrator would. Shared by the start-up tests and the benches.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private ServiceProcess(Process process)
    {
        Process = process;
    }

    public Process Process { get; }

    /// <summary>Everything the service has written so far, standard output and error interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="apiDll"/> in Production with only the <paramref name="environment"/> given here
    /// among the service's settings (inherited <c>ConnectionStrings*</c>, <c>Fleet*</c> and
    /// <c>FLEET_ADMIN_API_KEY</c> are dropped, so the caller's shell cannot change what is tested).
    /// Each line is also handed to <paramref name="onOutput"/> or <paramref name="onError"/> as it comes.
    /// </summary>
    public static ServiceProcess Start(
        string apiDll,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> environment,
        string workingDirectory,
        Action<string>? onOutput = null,
        Action<string>? onError = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(apiDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(IsServiceSetting).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var service = new ServiceProcess(Process.Start(start) ?? throw new InvalidOperationException("The service did not start."));
        service.Process.OutputDataReceived += (_, e) => service.Collect(e.Data, onOutput);
        service.Process.ErrorDataReceived += (_, e) => service.Collect(e.Data, onError);
        service.Process.BeginOutputReadLine();
        service.Process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Returns once <c>/health/ready</c> answers 200; throws, with the output, when the service exits first or <paramref name="within"/> passes.</summary>
    public async Task WaitUntilReadyAsync(Uri baseAddress, TimeSpan within)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = Stopwatch.StartNew();
        string last = "none";
        while (deadline.Elapsed < within)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with code {Process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                var status = (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode;
                if ((int)status == 200)
                {
                    return;
                }

                last = status.ToString();
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or busy starting.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        throw new TimeoutException($"The service did not become ready within {within} (last status {last}):\n{Output}");
    }

    /// <summary>The exit code of a service expected to stop on its own; killed and a <see cref="TimeoutException"/> after <paramref name="within"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The service neither started nor refused to start within {within}:\n{Output}");
        }

        // The parameterless wait also drains the redirected output.
        await Process.WaitForExitAsync();
        return Process.ExitCode;
    }

    /// <summary>SIGTERM, a graceful shutdown; killed when it has not ended after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Process.HasExited)
        {
            return;
        }

        using (var terminate = Process.Start("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await terminate.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30));
        Process.Dispose();
    }

    private static bool IsServiceSetting(string name) =>
        name.StartsWith("ConnectionStrings", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Fleet", StringComparison.OrdinalIgnoreCase)
        || name == "FLEET_ADMIN_API_KEY";

    private void Collect(string? line, Action<string>? handler)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        handler?.Invoke(line);
    }
}
