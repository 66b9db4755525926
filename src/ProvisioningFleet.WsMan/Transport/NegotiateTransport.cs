using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using Microsoft.Extensions.Logging;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// NTLM and Negotiate authenticate a TCP connection, and over HTTP the sealing keys belong to that
/// connection too. So this transport owns exactly one kept-alive connection (a handler of its own with
/// one connection per server), sends one request at a time in order (NTLM sealing counts messages),
/// and authenticates again when the server answers 401, e.g. because the connection was replaced.
/// </summary>
internal sealed class NegotiateTransport : WsManTransport
{
    private const int MaxHandshakeLegs = 6;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger;
    private NegotiateAuthentication? _session;

    public NegotiateTransport(WsManClientOptions options, ILogger logger)
        : base(options, logger, maxConnections: 1)
    {
        _logger = logger;
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
                    request.Content = new ByteArrayContent(SpnegoEncryption.Seal(session, envelope));
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", SpnegoEncryption.ContentType);
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

                if (!CarriesSoap(response))
                {
                    throw StatusError(response);
                }

                if (!Seals)
                {
                    return body;
                }

                if (IsEncrypted(response))
                {
                    return SpnegoEncryption.Unseal(session, body);
                }

                if (response.StatusCode == HttpStatusCode.OK && body.Length > 0)
                {
                    throw new CimException(CimErrorCategory.Protocol,
                        $"{Options.Endpoint.Host} answered an encrypted request in clear; the reply is not trusted.");
                }

                return body;
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
        // Without a credential, Negotiate and Kerberos use the process's own identity (keytab or ticket cache).
        var credential = Options.Credential;
        var session = new NegotiateAuthentication(new NegotiateAuthenticationClientOptions
        {
            Package = Options.Authentication switch
            {
                WsManAuthentication.Ntlm => "NTLM",
                WsManAuthentication.Kerberos => "Kerberos",
                _ => "Negotiate",
            },
            Credential = credential is null
                ? CredentialCache.DefaultNetworkCredentials
                : new NetworkCredential(credential.UserName, credential.Password, credential.Domain ?? string.Empty),
            TargetName = Options.ServicePrincipalName ?? "HTTP/" + Options.Endpoint.IdnHost,
            RequiredProtectionLevel = Seals ? ProtectionLevel.EncryptAndSign : ProtectionLevel.None,
        });
        try
        {
            var outgoing = session.GetOutgoingBlob(ReadOnlySpan<byte>.Empty, out var status);
            for (var leg = 0; leg < MaxHandshakeLegs; leg++)
            {
                if (status is not (NegotiateAuthenticationStatusCode.ContinueNeeded or NegotiateAuthenticationStatusCode.Completed) || outgoing is null)
                {
                    throw HandshakeFailed(status);
                }

                using var request = NewRequest();
                request.Headers.Authorization = new AuthenticationHeaderValue("Negotiate", Convert.ToBase64String(outgoing));
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

                if (Seals && !string.Equals(session.Package, "NTLM", StringComparison.OrdinalIgnoreCase))
                {
                    throw new CimException(CimErrorCategory.Configuration,
                        $"Negotiate with {Options.Endpoint.Host} chose {session.Package}; its message encryption over plain HTTP is not verified, so use HTTPS for Kerberos.");
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

    private static bool IsEncrypted(HttpResponseMessage response) =>
        string.Equals(response.Content.Headers.ContentType?.MediaType, "multipart/encrypted", StringComparison.OrdinalIgnoreCase);

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
