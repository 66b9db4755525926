using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication.ExtendedProtection;
using Microsoft.Extensions.Logging;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// NTLM, Negotiate and Kerberos authenticate a TCP connection, and over HTTP the sealing keys belong to
/// that connection too. So this transport owns exactly one kept-alive connection (a handler of its own
/// with one connection per server), sends one request at a time in order (sealing counts messages),
/// and authenticates again when the server answers 401 (the connection was replaced or the server lost
/// the context) or when the context's tickets have expired.
/// </summary>
internal sealed class NegotiateTransport : WsManTransport
{
    private const int MaxHandshakeLegs = 6;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger;
    private readonly string _scheme;
    private readonly MessageEncryption _encryption;
    private NegotiateAuthentication? _session;
    private ChannelBinding? _binding;

    public NegotiateTransport(WsManClientOptions options, ILogger logger)
        : base(options, logger, maxConnections: 1)
    {
        _logger = logger;

        // "Kerberos" carries raw Kerberos tokens (WinRM's Kerberos scheme); "Negotiate" carries SPNEGO,
        // which picks Kerberos or NTLM, and NTLM is sent under Negotiate as Windows' own client does.
        (_scheme, _encryption) = options.Authentication == WsManAuthentication.Kerberos
            ? ("Kerberos", MessageEncryption.Kerberos)
            : ("Negotiate", MessageEncryption.Spnego);
    }

    private bool Seals => !IsHttps;

    protected override async Task<ReadOnlyMemory<byte>> SendCoreAsync(byte[] envelope, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var session = _session ??= await AuthenticateAsync(cancellationToken).ConfigureAwait(false);
                using var request = NewRequest();
                if (Seals)
                {
                    if (!_encryption.TrySeal(session, envelope, out var sealedBody))
                    {
                        // The ticket behind the context has expired: fresh tickets, a fresh context, once.
                        Forget();
                        if (attempt == 0)
                        {
                            _logger.LogDebug("The security context with {Endpoint} expired; authenticating again", Options.Endpoint);
                            continue;
                        }

                        throw new CimException(CimErrorCategory.AccessDenied, $"The security context with {Options.Endpoint.Host} expired at once after authenticating.");
                    }

                    request.Content = new ByteArrayContent(sealedBody);
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", _encryption.ContentType);
                }
                else
                {
                    request.Content = new ByteArrayContent(envelope);
                    request.Content.Headers.ContentType = SoapContentType;
                }

                using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                var body = await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    // The connection (and its security context) is gone or expired: start afresh once.
                    Forget();
                    if (attempt == 0)
                    {
                        _logger.LogDebug("{Endpoint} answered 401 on an authenticated session; authenticating again", Options.Endpoint);
                        continue;
                    }

                    throw StatusError(response);
                }

                if (!Seals)
                {
                    return CarriesSoap(response) ? body : throw StatusError(response);
                }

                // On a sealed session only a sealed reply is the device's answer, faults included: a
                // plain one could come from anyone on the path (a forged "invalid class" would hide a
                // task sequence or fake a missing client).
                if (_encryption.Matches(response.Content.Headers.ContentType))
                {
                    return _encryption.Unseal(session, body);
                }

                if (!CarriesSoap(response))
                {
                    throw StatusError(response);
                }

                throw new CimException(CimErrorCategory.Protocol,
                    $"{Options.Endpoint.Host} answered an encrypted request in clear (HTTP {(int)response.StatusCode}); the reply is not trusted.",
                    (int)response.StatusCode);
            }
        }
        catch
        {
            // After any failure mid-exchange the sequence numbers of the two sides may differ.
            Forget();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<NegotiateAuthentication> AuthenticateAsync(CancellationToken cancellationToken)
    {
        // The context reads the binding in later legs (NTLM's last), so it lives as long as the session.
        _binding?.Dispose();
        _binding = IsHttps ? await ChannelBindingAsync(cancellationToken).ConfigureAwait(false) : null;
        var package = Options.Authentication switch
        {
            WsManAuthentication.Ntlm => "NTLM",
            WsManAuthentication.Kerberos => "Kerberos",
            _ => "Negotiate",
        };
        var session = new NegotiateAuthentication(new NegotiateAuthenticationClientOptions
        {
            Package = package,
            Credential = NetworkCredentialFor(Options.Credential, package),
            TargetName = Options.ServicePrincipalName ?? "HTTP/" + Options.Endpoint.IdnHost,
            RequiredProtectionLevel = Seals ? ProtectionLevel.EncryptAndSign : ProtectionLevel.None,
            Binding = _binding,
        });
        try
        {
            var outgoing = session.GetOutgoingBlob(ReadOnlySpan<byte>.Empty, out var status);
            for (var leg = 0; leg < MaxHandshakeLegs; leg++)
            {
                if (status is not (NegotiateAuthenticationStatusCode.ContinueNeeded or NegotiateAuthenticationStatusCode.Completed) || outgoing is null)
                {
                    throw leg == 0 ? await FirstLegFailedAsync(status, cancellationToken).ConfigureAwait(false) : HandshakeFailed(status);
                }

                using var request = NewRequest();
                request.Headers.Authorization = new AuthenticationHeaderValue(_scheme, Convert.ToBase64String(outgoing));
                request.Content = new ByteArrayContent([]);
                request.Content.Headers.ContentType = SoapContentType;
                using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false);
                var incoming = ServerToken(response);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    if (incoming is null || status == NegotiateAuthenticationStatusCode.Completed)
                    {
                        throw StatusError(response);
                    }

                    outgoing = session.GetOutgoingBlob(incoming, out status);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw StatusError(response);
                }

                if (incoming is not null && !session.IsAuthenticated)
                {
                    session.GetOutgoingBlob(incoming, out status);
                }

                if (!session.IsAuthenticated)
                {
                    throw HandshakeFailed(status);
                }

                return session;
            }

            throw HandshakeFailed(status);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Without a credential, Negotiate and Kerberos use the process's own identity (keytab or ticket
    /// cache). A password credential gets its own tickets in a credential cache of its own, so several
    /// credentials and realms never share one. <c>DOMAIN\user</c> becomes <c>user@DOMAIN</c>; for Kerberos
    /// the realm is upper-cased, as Active Directory realms are and MIT compares them.
    /// </summary>
    private static NetworkCredential NetworkCredentialFor(WsManCredential? credential, string package) => credential switch
    {
        null => CredentialCache.DefaultNetworkCredentials,
        { Domain: { Length: > 0 } domain } when package == "Kerberos" =>
            new NetworkCredential(credential.UserName, credential.Password, domain.ToUpperInvariant()),
        _ => new NetworkCredential(credential.UserName, credential.Password, credential.Domain ?? string.Empty),
    };

    /// <summary>
    /// The <c>tls-server-end-point</c> binding of the TLS connection, so that a device with
    /// <c>CbtHardeningLevel=Strict</c> accepts us. The first authentication opens the connection with a
    /// bare request (answered 401) to learn the server's certificate; the binding hashes only that
    /// certificate, so it stays valid on later connections to the same server.
    /// </summary>
    private async Task<ChannelBinding?> ChannelBindingAsync(CancellationToken cancellationToken)
    {
        if (TlsChannelBinding() is { } known)
        {
            return known;
        }

        using var request = NewRequest();
        request.Content = new ByteArrayContent([]);
        request.Content.Headers.ContentType = SoapContentType;
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false);
        return TlsChannelBinding()
            ?? throw new CimException(CimErrorCategory.Tls, $"The TLS connection to {Options.Endpoint.Host} offers no tls-server-end-point channel binding.");
    }

    private static byte[]? ServerToken(HttpResponseMessage response)
    {
        foreach (var challenge in response.Headers.WwwAuthenticate)
        {
            if ((challenge.Scheme.Equals("Negotiate", StringComparison.OrdinalIgnoreCase) || challenge.Scheme.Equals("NTLM", StringComparison.OrdinalIgnoreCase)
                    || challenge.Scheme.Equals("Kerberos", StringComparison.OrdinalIgnoreCase))
                && !string.IsNullOrEmpty(challenge.Parameter))
            {
                try
                {
                    return Convert.FromBase64String(challenge.Parameter);
                }
                catch (FormatException e)
                {
                    throw new CimException(CimErrorCategory.Protocol, "The server's authentication token is not base64.", inner: e);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The first token is where Kerberos gets its tickets, so that is where a wrong password, an unknown
    /// user or SPN, no KDC or no realm mapping shows; the status alone does not tell them apart.
    /// </summary>
    private async Task<CimException> FirstLegFailedAsync(NegotiateAuthenticationStatusCode status, CancellationToken cancellationToken)
    {
        if (Options.Authentication != WsManAuthentication.Kerberos || Options.Credential is not { } credential)
        {
            return HandshakeFailed(status);
        }

        var targetName = Options.ServicePrincipalName ?? "HTTP/" + Options.Endpoint.IdnHost;
        var credentialsRefused = status is NegotiateAuthenticationStatusCode.UnknownCredentials or NegotiateAuthenticationStatusCode.CredentialsExpired;
        // libkrb5 blocks (bounded by krb5.conf's kdc_timeout); the caller's deadline still ends the wait.
        var reason = await Task.Run(() => KerberosDiagnosis.Explain(credential, targetName, credentialsRefused, Options.Endpoint.Host), cancellationToken)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        return reason ?? HandshakeFailed(status);
    }

    private CimException HandshakeFailed(NegotiateAuthenticationStatusCode status) => status switch
    {
        NegotiateAuthenticationStatusCode.UnknownCredentials or NegotiateAuthenticationStatusCode.CredentialsExpired
            or NegotiateAuthenticationStatusCode.BadBinding or NegotiateAuthenticationStatusCode.ImpersonationValidationFailed =>
            new CimException(CimErrorCategory.AccessDenied, $"{Options.Authentication} authentication to {Options.Endpoint.Host} as {Options.Credential?.ToString() ?? "the service's own identity"} failed ({status})."),
        NegotiateAuthenticationStatusCode.Unsupported or NegotiateAuthenticationStatusCode.SecurityQosFailed or NegotiateAuthenticationStatusCode.TargetUnknown =>
            new CimException(CimErrorCategory.Configuration, $"{Options.Authentication} authentication to {Options.Endpoint.Host} is not possible here ({status})."),
        _ => new CimException(CimErrorCategory.AccessDenied, $"{Options.Authentication} authentication to {Options.Endpoint.Host} did not complete ({status})."),
    };

    private void Forget()
    {
        _session?.Dispose();
        _session = null;
        _binding?.Dispose();
        _binding = null;
    }

    public override async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            Forget();
        }
        finally
        {
            _gate.Release();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }
}
