using System.Net.Security;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.Simulator.Authentication;

/// <summary>
/// Who sent a request and how; <see cref="Session"/> is set for a Negotiate/NTLM/Kerberos connection,
/// with the <see cref="Protocol"/> its encrypted messages name.
/// </summary>
internal sealed record Caller(string UserName, NegotiateAuthentication? Session, string Protocol = SessionEncryption.SpnegoProtocol);

/// <summary>
/// Authentication as the WinRM service does it: Basic per request, Negotiate/NTLM/Kerberos per TCP
/// connection (the handshake's 401 round trips, then every request on that connection is that user, and
/// the session key seals its messages). Kerberos tickets are checked against the keytab the process's
/// GSSAPI uses (<c>KRB5_KTNAME</c>, see <see cref="SimulatorOptions.KerberosKeytab"/>).
/// </summary>
internal sealed class ListenerAuthentication(SimulatorOptions options)
{
    private const string ConnectionKey = "ProvisioningFleet.Simulator.Negotiate";

    private sealed class ConnectionState : IDisposable
    {
        public NegotiateAuthentication? Handshake { get; set; }
        public Caller? Established { get; set; }

        public void Dispose()
        {
            Handshake?.Dispose();
            Established?.Session?.Dispose();
        }
    }

    /// <summary>
    /// Authenticates the request, or answers it (401 with a challenge or the next handshake leg) and
    /// returns null.
    /// </summary>
    public Caller? Authenticate(HttpContext context, bool refuseEveryone)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (refuseEveryone)
        {
            Challenge(context);
            return null;
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            if (!options.AllowBasic || (!context.Request.IsHttps && !options.AllowUnencrypted))
            {
                Challenge(context);
                return null;
            }
            var user = CheckBasic(header["Basic ".Length..].Trim());
            if (user is null)
            {
                Challenge(context);
                return null;
            }
            return new Caller(user, null);
        }

        var scheme = header.StartsWith("Negotiate ", StringComparison.OrdinalIgnoreCase) ? "Negotiate"
            : header.StartsWith("Kerberos ", StringComparison.OrdinalIgnoreCase) ? "Kerberos"
            : header.StartsWith("NTLM ", StringComparison.OrdinalIgnoreCase) ? "NTLM" : null;
        if (scheme is not null)
        {
            if (!options.AllowNegotiate)
            {
                Challenge(context);
                return null;
            }
            return Step(context, State(context), scheme, header[(scheme.Length + 1)..].Trim());
        }

        if (State(context).Established is { } established)
        {
            return established;
        }
        Challenge(context);
        return null;
    }

    private Caller? Step(HttpContext context, ConnectionState state, string scheme, string tokenText)
    {
        byte[] token;
        try
        {
            token = Convert.FromBase64String(tokenText);
        }
        catch (FormatException)
        {
            Challenge(context);
            return null;
        }

        if (state.Handshake is null)
        {
            // A fresh handshake on an authenticated connection starts a new session.
            state.Established?.Session?.Dispose();
            state.Established = null;
            NtlmUserFile.Include(options.Users);
            var rawNtlm = token.AsSpan().StartsWith("NTLMSSP\0"u8);
            // The Negotiate acceptor also takes raw Kerberos tokens (the Kerberos scheme).
            state.Handshake = new NegotiateAuthentication(new NegotiateAuthenticationServerOptions
            {
                Package = rawNtlm ? "NTLM" : "Negotiate",
            });
        }

        var handshake = state.Handshake;
        byte[]? reply;
        NegotiateAuthenticationStatusCode status;
        try
        {
            reply = handshake.GetOutgoingBlob(token, out status);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            status = NegotiateAuthenticationStatusCode.GenericFailure;
            reply = null;
        }

        if (status == NegotiateAuthenticationStatusCode.ContinueNeeded)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = $"{scheme} {Convert.ToBase64String(reply ?? [])}";
            context.Response.ContentLength = 0;
            return null;
        }

        state.Handshake = null;
        if (status != NegotiateAuthenticationStatusCode.Completed || !IsKnownUser(handshake.RemoteIdentity.Name))
        {
            handshake.Dispose();
            Challenge(context);
            return null;
        }

        if (reply is { Length: > 0 })
        {
            context.Response.Headers.WWWAuthenticate = $"{scheme} {Convert.ToBase64String(reply)}";
        }
        state.Established = new Caller(handshake.RemoteIdentity.Name ?? string.Empty, handshake, SessionEncryption.ProtocolFor(scheme));
        return state.Established;
    }

    private string? CheckBasic(string encoded)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':');
        if (colon <= 0)
        {
            return null;
        }
        var (name, password) = (decoded[..colon], decoded[(colon + 1)..]);
        var user = Find(name);
        return user is not null && CryptographicEquals(user.Password, password) ? name : null;
    }

    private bool IsKnownUser(string? identity) => identity is not null && Find(identity) is not null;

    /// <summary>Matches <c>user</c>, <c>DOMAIN\user</c> and <c>user@domain</c>.</summary>
    private SimulatedUser? Find(string identity)
    {
        string? domain = null;
        var name = identity;
        var backslash = identity.IndexOf('\\');
        var at = identity.IndexOf('@');
        if (backslash >= 0)
        {
            (domain, name) = (identity[..backslash], identity[(backslash + 1)..]);
        }
        else if (at >= 0)
        {
            (name, domain) = (identity[..at], identity[(at + 1)..]);
        }
        return options.Users.FirstOrDefault(u =>
            string.Equals(u.UserName, name, StringComparison.OrdinalIgnoreCase)
            && (string.IsNullOrEmpty(domain) || string.IsNullOrEmpty(u.Domain) || string.Equals(u.Domain, domain, StringComparison.OrdinalIgnoreCase)));
    }

    private static bool CryptographicEquals(string expected, string actual) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(actual));

    private void Challenge(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        var schemes = new List<string>(2);
        if (options.AllowNegotiate)
        {
            schemes.Add("Negotiate");
            schemes.Add("Kerberos");
        }
        if (options.AllowBasic && (context.Request.IsHttps || options.AllowUnencrypted))
        {
            schemes.Add("Basic realm=\"WSMAN\"");
        }
        context.Response.Headers.WWWAuthenticate = schemes.ToArray();
        context.Response.ContentLength = 0;
    }

    private static ConnectionState State(HttpContext context)
    {
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items
            ?? throw new InvalidOperationException("Kestrel connection items are needed for connection-based authentication.");
        if (items.TryGetValue(ConnectionKey, out var existing) && existing is ConnectionState state)
        {
            return state;
        }
        state = new ConnectionState();
        items[ConnectionKey] = state;
        context.Features.Get<IConnectionCompleteFeature>()?.OnCompleted(s =>
        {
            ((ConnectionState)s).Dispose();
            return Task.CompletedTask;
        }, state);
        return state;
    }
}
