using System.Runtime.InteropServices;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// Finds out why a Kerberos handshake failed, since <see cref="System.Net.Security.NegotiateAuthentication"/>
/// reports only a coarse status (a wrong password, an unknown user, no KDC and no realm mapping all read
/// "UnknownCredentials"). It asks MIT Kerberos (libkrb5, the library under the system GSSAPI) directly:
/// first an AS request without a password, which tells an unknown user, an unknown realm and an
/// unreachable KDC apart without another failed logon against the account; only when the user's
/// credentials were not what failed, a TGS request for the service, which names an unknown SPN.
/// </summary>
internal static partial class KerberosDiagnosis
{
    private const int ErrorTableBase = -1765328384;
    private const int ClientUnknown = ErrorTableBase + 6;
    private const int ServerUnknown = ErrorTableBase + 7;
    private const int EnctypeNotSupported = ErrorTableBase + 14;
    private const int ClientRevoked = ErrorTableBase + 18;
    private const int PasswordExpired = ErrorTableBase + 23;
    private const int PreauthFailed = ErrorTableBase + 24;
    private const int ClockSkew = ErrorTableBase + 37;
    private const int RealmUnknown = ErrorTableBase + 154;
    private const int KdcUnreachable = ErrorTableBase + 156;
    private const int RealmCannotResolve = ErrorTableBase + 220;
    private const int ServiceHostName = 3;

    /// <summary>Room for a krb5_creds (120 bytes on 64-bit), zeroed.</summary>
    private const int CredsSize = 256;
    private const int CredsClientOffset = 8;
    private const int CredsServerOffset = 16;

    /// <summary>
    /// The reason, as a <see cref="CimException"/> in the contract's categories with the krb5 error
    /// code, or null when it cannot be told (no libkrb5, or nothing failed on a second look).
    /// </summary>
    public static CimException? Explain(WsManCredential credential, string targetName, bool credentialsRefused, string host)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        try
        {
            return ExplainCore(credential, targetName, credentialsRefused, host);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static CimException? ExplainCore(WsManCredential credential, string targetName, bool credentialsRefused, string host)
    {
        if (krb5_init_context(out var context) != 0)
        {
            return null;
        }

        var creds = Marshal.AllocHGlobal(CredsSize);
        var client = IntPtr.Zero;
        try
        {
            Zero(creds);
            var principal = PrincipalName(credential);
            var code = krb5_parse_name(context, principal, out client);
            if (code != 0)
            {
                return new CimException(CimErrorCategory.Configuration, $"'{principal}' is not a Kerberos principal name: {Message(context, code)}.", code);
            }

            // No password and no prompter: the KDC answers for the principal, and no logon is attempted.
            code = krb5_get_init_creds_password(context, creds, client, null, IntPtr.Zero, IntPtr.Zero, 0, null, IntPtr.Zero);
            if (Classify(code) is { } category)
            {
                return new CimException(category, $"Kerberos authentication to {host} as {principal} failed: {Message(context, code)}.", code);
            }

            if (credentialsRefused)
            {
                return new CimException(CimErrorCategory.AccessDenied,
                    $"Kerberos authentication to {host} as {principal} failed: the KDC knows the principal but refused the password (a wrong or expired password, a locked account, or a clock far off the KDC's).",
                    PreauthFailed);
            }

            krb5_free_cred_contents(context, creds);
            Zero(creds);
            code = krb5_get_init_creds_password(context, creds, client, credential.Password, IntPtr.Zero, IntPtr.Zero, 0, null, IntPtr.Zero);
            if (code != 0)
            {
                return new CimException(Classify(code) ?? CimErrorCategory.AccessDenied, $"Kerberos authentication to {host} as {principal} failed: {Message(context, code)}.", code);
            }

            return ExplainService(context, creds, client, targetName, principal, host);
        }
        finally
        {
            krb5_free_cred_contents(context, creds);
            Marshal.FreeHGlobal(creds);
            if (client != IntPtr.Zero)
            {
                krb5_free_principal(context, client);
            }

            krb5_free_context(context);
        }
    }

    /// <summary>With a TGT in a cache of its own, asks for the service ticket the handshake could not get.</summary>
    private static CimException? ExplainService(IntPtr context, IntPtr tgt, IntPtr client, string targetName, string principal, string host)
    {
        var slash = targetName.IndexOf('/');
        var code = targetName.Contains('@') || slash < 0
            ? krb5_parse_name(context, targetName, out var server)
            : krb5_sname_to_principal(context, targetName[(slash + 1)..], targetName[..slash], ServiceHostName, out server);
        if (code != 0)
        {
            return new CimException(CimErrorCategory.Configuration, $"The SPN '{targetName}' is not a Kerberos principal name: {Message(context, code)}.", code);
        }

        var cache = IntPtr.Zero;
        var request = Marshal.AllocHGlobal(CredsSize);
        try
        {
            Zero(request);
            if ((code = krb5_cc_new_unique(context, "MEMORY", null, out cache)) != 0
                || (code = krb5_cc_initialize(context, cache, client)) != 0
                || (code = krb5_cc_store_cred(context, cache, tgt)) != 0)
            {
                return null;
            }

            Marshal.WriteIntPtr(request, CredsClientOffset, client);
            Marshal.WriteIntPtr(request, CredsServerOffset, server);
            code = krb5_get_credentials(context, 0, cache, request, out var ticket);
            if (code == 0)
            {
                krb5_free_creds(context, ticket);
                return null;
            }

            var serverName = Unparse(context, server) ?? targetName;
            return new CimException(code == ServerUnknown ? CimErrorCategory.Configuration : Classify(code) ?? CimErrorCategory.AccessDenied,
                code == ServerUnknown
                    ? $"Kerberos authentication to {host} as {principal} failed: the KDC does not know the service principal {serverName} ({Message(context, code)}). Register the SPN on the computer account (setspn -S {targetName} <computer>) or set the device's spn."
                    : $"Kerberos authentication to {host} as {principal} for {serverName} failed: {Message(context, code)}.",
                code);
        }
        finally
        {
            if (cache != IntPtr.Zero)
            {
                krb5_cc_destroy(context, cache);
            }

            Marshal.FreeHGlobal(request);
            krb5_free_principal(context, server);
        }
    }

    /// <summary>The category of a failure the KDC or the library states outright; null for "a password is needed".</summary>
    private static CimErrorCategory? Classify(int code) => code switch
    {
        0 => null,
        KdcUnreachable => CimErrorCategory.Network,
        RealmUnknown or RealmCannotResolve or ClockSkew or EnctypeNotSupported or ServerUnknown => CimErrorCategory.Configuration,
        ClientUnknown or ClientRevoked or PasswordExpired or PreauthFailed => CimErrorCategory.AccessDenied,
        // Anything else here is the library asking for the password it was not given.
        _ => null,
    };

    /// <summary>The principal .NET asks tickets for: <c>user@REALM</c> as given, or <c>user</c> + <c>@DOMAIN</c>.</summary>
    private static string PrincipalName(WsManCredential credential) =>
        credential.UserName.Contains('@') || string.IsNullOrEmpty(credential.Domain)
            ? credential.UserName
            : $"{credential.UserName}@{credential.Domain.ToUpperInvariant()}";

    private static string Message(IntPtr context, int code)
    {
        var text = krb5_get_error_message(context, code);
        try
        {
            return Marshal.PtrToStringUTF8(text) ?? $"krb5 error {code}";
        }
        finally
        {
            krb5_free_error_message(context, text);
        }
    }

    private static string? Unparse(IntPtr context, IntPtr principal)
    {
        if (krb5_unparse_name(context, principal, out var text) != 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(text);
        }
        finally
        {
            krb5_free_unparsed_name(context, text);
        }
    }

    private static void Zero(IntPtr memory)
    {
        for (var i = 0; i < CredsSize; i += 8)
        {
            Marshal.WriteInt64(memory, i, 0);
        }
    }

    private const string Library = "libkrb5.so.3";

    [LibraryImport(Library)]
    private static partial int krb5_init_context(out IntPtr context);

    [LibraryImport(Library)]
    private static partial void krb5_free_context(IntPtr context);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int krb5_parse_name(IntPtr context, string name, out IntPtr principal);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int krb5_sname_to_principal(IntPtr context, string hostName, string serviceName, int type, out IntPtr principal);

    [LibraryImport(Library)]
    private static partial int krb5_unparse_name(IntPtr context, IntPtr principal, out IntPtr name);

    [LibraryImport(Library)]
    private static partial void krb5_free_unparsed_name(IntPtr context, IntPtr name);

    [LibraryImport(Library)]
    private static partial void krb5_free_principal(IntPtr context, IntPtr principal);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int krb5_get_init_creds_password(
        IntPtr context, IntPtr creds, IntPtr client, string? password, IntPtr prompter, IntPtr data, int startTime, string? service, IntPtr options);

    [LibraryImport(Library)]
    private static partial void krb5_free_cred_contents(IntPtr context, IntPtr creds);

    [LibraryImport(Library)]
    private static partial void krb5_free_creds(IntPtr context, IntPtr creds);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int krb5_cc_new_unique(IntPtr context, string type, string? hint, out IntPtr cache);

    [LibraryImport(Library)]
    private static partial int krb5_cc_initialize(IntPtr context, IntPtr cache, IntPtr principal);

    [LibraryImport(Library)]
    private static partial int krb5_cc_store_cred(IntPtr context, IntPtr cache, IntPtr creds);

    [LibraryImport(Library)]
    private static partial int krb5_cc_destroy(IntPtr context, IntPtr cache);

    [LibraryImport(Library)]
    private static partial int krb5_get_credentials(IntPtr context, int options, IntPtr cache, IntPtr inCreds, out IntPtr outCreds);

    [LibraryImport(Library)]
    private static partial IntPtr krb5_get_error_message(IntPtr context, int code);

    [LibraryImport(Library)]
    private static partial void krb5_free_error_message(IntPtr context, IntPtr message);
}
