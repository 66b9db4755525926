namespace ProvisioningFleet.Simulator.Authentication;

/// <summary>
/// The user file gss-ntlmssp checks NTLM logons against on Linux (<c>NTLM_USER_FILE</c>, lines
/// <c>DOMAIN:user:password</c>). The variable is process-wide and must be set before the first server
/// <see cref="System.Net.Security.NegotiateAuthentication"/>, so all hosts in a process share one file
/// that holds every host's users; each host still checks the authenticated name against its own list.
/// </summary>
internal static class NtlmUserFile
{
    public const string Variable = "NTLM_USER_FILE";

    private static readonly Lock Gate = new();
    private static readonly HashSet<string> Lines = new(StringComparer.Ordinal);
    private static string? _path;

    public static void Include(IEnumerable<Hosting.SimulatedUser> users)
    {
        lock (Gate)
        {
            var added = false;
            foreach (var user in users)
            {
                if (user.UserName.Contains(':') || user.Password.Contains('\n') || (user.Domain?.Contains(':') ?? false))
                {
                    throw new ArgumentException($"User '{user.UserName}' cannot be written to the NTLM user file.");
                }
                added |= Lines.Add($"{user.Domain ?? string.Empty}:{user.UserName}:{user.Password}");
            }
            if (_path is not null && !added)
            {
                return;
            }
            if (_path is null)
            {
                _path = Path.Combine(Path.GetTempPath(), $"provisioningfleet-simulator-ntlm-{Environment.ProcessId}.txt");
                // The file holds passwords: it lives only as long as the process.
                AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(_path);
            }
            var temporary = _path + ".tmp";
            // Owner-only from the moment it exists: a left-over (or planted) file is removed, never written into.
            File.Delete(temporary);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var writer = new StreamWriter(new FileStream(temporary, options)))
            {
                foreach (var line in Lines)
                {
                    writer.WriteLine(line);
                }
            }
            File.Move(temporary, _path, overwrite: true);
            // gss-ntlmssp reads the variable with getenv(); .NET's own setter does not reach the C environment.
            NativeEnvironment.Set(Variable, _path);
        }
    }
}
