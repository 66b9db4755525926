using System.Runtime.InteropServices;

namespace ProvisioningFleet.Simulator.Authentication;

/// <summary>
/// Sets a variable in the C environment too: GSSAPI mechanisms (gss-ntlmssp, MIT Kerberos) read it
/// with getenv(), which .NET's own setter does not reach.
/// </summary>
internal static partial class NativeEnvironment
{
    public static void Set(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (!OperatingSystem.IsWindows())
        {
            _ = setenv(name, value, 1);
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
