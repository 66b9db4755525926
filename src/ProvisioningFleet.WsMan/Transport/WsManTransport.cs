using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Authentication.ExtendedProtection;
using Microsoft.Extensions.Logging;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// Carries one envelope to the endpoint and brings back the SOAP reply, bounded in size and time.
/// HTTP-level failures leave as <see cref="CimException"/>s; a SOAP fault is returned as a reply for
/// the envelope reader to sort.
/// </summary>
internal abstract class WsManTransport : IAsyncDisposable
{
    protected static readonly MediaTypeHeaderValue SoapContentType = MediaTypeHeaderValue.Parse("application/soap+xml;charset=UTF-8");

    protected WsManTransport(WsManClientOptions options, ILogger logger, int maxConnections)
    {
        Options = options;
        var handler = CreateHandler(options, logger, maxConnections);
        if (options.Endpoint.Scheme == Uri.UriSchemeHttps)
        {
            // After TLS, the plaintext stream is the SslStream: its certificate gives the channel binding.
            handler.PlaintextStreamFilter = (context, _) =>
            {
                if (context.PlaintextStream is SslStream tls)
                {
                    Volatile.Write(ref _tls, tls);
                }

                return ValueTask.FromResult(context.PlaintextStream);
            };
        }

        Http = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    private SslStream? _tls;

    protected WsManClientOptions Options { get; }

    protected HttpClient Http { get; }

    protected bool IsHttps => Options.Endpoint.Scheme == Uri.UriSchemeHttps;

    public static WsManTransport Create(WsManClientOptions options, ILogger logger)
    {
        if (options.Endpoint.Scheme != Uri.UriSchemeHttp && options.Endpoint.Scheme != Uri.UriSchemeHttps)
        {
            throw new CimException(CimErrorCategory.Configuration, $"The endpoint {options.Endpoint} is neither http nor https.");
        }

        if (options.Credential is null && options.Authentication is WsManAuthentication.Basic or WsManAuthentication.Ntlm)
        {
            throw new CimException(CimErrorCategory.Configuration, $"{options.Authentication} authentication to {options.Endpoint} needs a credential.");
        }

        var https = options.Endpoint.Scheme == Uri.UriSchemeHttps;
        switch (options.Authentication)
        {
            case WsManAuthentication.Basic when !https && !options.AllowUnencrypted:
                throw new CimException(CimErrorCategory.Configuration,
                    $"Basic authentication over plain HTTP would send the password in clear to {options.Endpoint}; use HTTPS or allow unencrypted traffic explicitly.");
            case WsManAuthentication.Basic:
                return new BasicTransport(options, logger);
            default:
                return new NegotiateTransport(options, logger);
        }
    }

    /// <summary>Sends one envelope and returns the plain SOAP reply.</summary>
    public async Task<ReadOnlyMemory<byte>> SendAsync(byte[] envelope, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.RequestTimeout);
        try
        {
            return await SendCoreAsync(envelope, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CimException(CimErrorCategory.Timeout,
                $"{Options.Endpoint.Host} did not answer within {Options.RequestTimeout.TotalSeconds:0.###} s.", inner: e);
        }
        catch (HttpRequestException e)
        {
            throw Classify(e);
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CimException(CimErrorCategory.Network, $"The connection to {Options.Endpoint.Host} failed: {e.Message}", inner: e);
        }
    }

    protected abstract Task<ReadOnlyMemory<byte>> SendCoreAsync(byte[] envelope, CancellationToken cancellationToken);

    public virtual ValueTask DisposeAsync()
    {
        Http.Dispose();
        return ValueTask.CompletedTask;
    }

    protected HttpRequestMessage NewRequest() => new(HttpMethod.Post, Options.Endpoint)
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    /// <summary>
    /// A copy of the <c>tls-server-end-point</c> channel binding of the latest TLS connection, or null
    /// before the first one. A copy, because the connection's own binding goes when the connection closes.
    /// </summary>
    internal ChannelBinding? TlsChannelBinding()
    {
        var tls = Volatile.Read(ref _tls);
        try
        {
            // The stream owns (and caches) its binding: copied, never disposed here.
            var binding = tls?.TransportContext?.GetChannelBinding(ChannelBindingKind.Endpoint);
            return binding is null || binding.IsInvalid ? null : CopiedChannelBinding.Of(binding);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Reads a reply body up to <see cref="WsManClientOptions.MaxReplyBytes"/>, never more (<see cref="BoundedBody"/>).</summary>
    protected Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        BoundedBody.ReadAsync(response.Content, Options.MaxReplyBytes,
            () => new CimException(CimErrorCategory.Protocol, $"The reply from {Options.Endpoint.Host} exceeds {Options.MaxReplyBytes} bytes."),
            cancellationToken);

    /// <summary>Turns a non-success HTTP status with no SOAP fault into an error.</summary>
    protected CimException StatusError(HttpResponseMessage response) => response.StatusCode switch
    {
        HttpStatusCode.Unauthorized => new CimException(CimErrorCategory.AccessDenied,
            $"{Options.Endpoint.Host} refused the credential {Options.Credential} ({Options.Authentication}): HTTP 401.", 401),
        HttpStatusCode.Forbidden => new CimException(CimErrorCategory.AccessDenied, $"{Options.Endpoint.Host} answered HTTP 403.", 403),
        _ => new CimException(CimErrorCategory.Protocol,
            $"{Options.Endpoint.Host} answered HTTP {(int)response.StatusCode} without a WS-Management reply.", (int)response.StatusCode),
    };

    /// <summary>A 200 or a 4xx/5xx with a SOAP body is a WS-Management reply (faults come as 500).</summary>
    protected static bool CarriesSoap(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.OK
        || (response.Content.Headers.ContentType?.MediaType is { } type
            && (type.Equals("application/soap+xml", StringComparison.OrdinalIgnoreCase) || type.Equals("multipart/encrypted", StringComparison.OrdinalIgnoreCase))
            && (int)response.StatusCode >= 400);

    private CimException Classify(HttpRequestException e)
    {
        var host = Options.Endpoint.Host;
        if (e.HttpRequestError == HttpRequestError.SecureConnectionError || e.InnerException is AuthenticationException)
        {
            return new CimException(CimErrorCategory.Tls, $"TLS with {host} failed: {e.InnerException?.Message ?? e.Message}", inner: e);
        }

        var socketError = (e.InnerException as SocketException ?? e.InnerException?.InnerException as SocketException)?.SocketErrorCode;
        // A connection closed before any answer is a host going away (Network); an answer that is not
        // HTTP at all is a Protocol error.
        return e.HttpRequestError switch
        {
            HttpRequestError.InvalidResponse when socketError is null =>
                new CimException(CimErrorCategory.Protocol, $"{host} sent an invalid HTTP reply: {e.Message}", inner: e),
            _ => new CimException(CimErrorCategory.Network,
                $"Cannot reach {host}: {e.Message}{(socketError is null ? "" : $" ({socketError})")}", socketError is null ? null : (long)socketError, e),
        };
    }

    private static SocketsHttpHandler CreateHandler(WsManClientOptions options, ILogger logger, int maxConnections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionIdleTimeout = options.ConnectionIdleTimeout,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxResponseHeadersLength = 64,
            // A device is not part of the service's traces: no traceparent (nor baggage) to the fleet, whose owners need
            // not see the service's trace ids. The service's own spans of each probe and fix still carry the device.
            ActivityHeadersPropagator = null,
            // Nor are they part of the service's HTTP client metrics (see WsManHttpMeters). Together with no propagator,
            // which leaves out the handler that would start a System.Net.Http activity, the HTTP client instrumentation
            // sees no WS-Man request at all.
            MeterFactory = WsManHttpMeters.Shared,
        };
        if (options.Endpoint.Scheme == Uri.UriSchemeHttps)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = ServerCertificateValidation.For(options.Tls, options.Endpoint, logger),
            };
        }

        return handler;
    }
}
