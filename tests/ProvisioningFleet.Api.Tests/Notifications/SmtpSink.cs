using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MimeKit;

namespace ProvisioningFleet.Api.Tests.Notifications;

/// <summary>
/// A real SMTP server: Debian's aiosmtpd (python3-aiosmtpd, installed by .ci/run) as a child process on a
/// loopback port, storing every message it accepts in a maildir that the test reads back.
/// </summary>
internal sealed class SmtpSink : IAsyncDisposable
{
    public const string Python = "/usr/bin/python3";

    private readonly Process _process;
    private readonly string _maildir;

    private SmtpSink(Process process, string maildir, int port)
    {
        _process = process;
        _maildir = maildir;
        Port = port;
    }

    public int Port { get; }

    public static async Task<SmtpSink> StartAsync()
    {
        var maildir = Directory.CreateTempSubdirectory("fleet-smtp-").FullName;
        foreach (var part in new[] { "tmp", "new", "cur" })
        {
            Directory.CreateDirectory(Path.Combine(maildir, part));
        }

        var port = FreePort();
        var start = new ProcessStartInfo(Python)
        {
            ArgumentList = { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", maildir },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("aiosmtpd did not start.");
        var sink = new SmtpSink(process, maildir, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"aiosmtpd exited ({process.ExitCode}); is python3-aiosmtpd installed? {await process.StandardError.ReadToEndAsync()}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return sink;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public IReadOnlyList<MimeMessage> Messages()
    {
        var folder = Path.Combine(_maildir, "new");
        return !Directory.Exists(folder)
            ? []
            : Directory.GetFiles(folder).Order().Select(file => MimeMessage.Load(file)).ToList();
    }

    public async Task<IReadOnlyList<MimeMessage>> WaitForAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Messages().Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The SMTP server has {Messages().Count} message(s) after {timeout}, expected {count}.");
            await Task.Delay(100);
        }

        return Messages();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_maildir, recursive: true);
    }
}
