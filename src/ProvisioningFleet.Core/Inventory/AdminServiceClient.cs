using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.WsMan;
using ProvisioningFleet.WsMan.Transport;

namespace ProvisioningFleet.Core.Inventory;

/// <summary>
/// Reads a ConfigMgr site through its administration service: OData over HTTPS with Windows
/// authentication (Negotiate: Kerberos or NTLM, through the same <see cref="NegotiateAuthentication"/>
/// as WinRM; never Basic). Every request is bounded in time and size; pages are followed through
/// <c>@odata.nextLink</c>, but only on the same service. Failures leave as <see cref="AdminServiceException"/>.
/// </summary>
public sealed class AdminServiceClient : IDisposable
{
    private const string MemberColumns = "CollectionID,ResourceID,Name,Domain,SMSID,IsClient,IsActive,IsObsolete,IsDecommissioned,ClientVersion,SiteCode";
    private const string SystemColumns = "ResourceId,Name,ResourceNames,SMSUniqueIdentifier";

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    private readonly HttpClient _http;
    private readonly Uri _root;
    private readonly AdminServiceOptions _options;

    /// <param name="adminServiceUrl">The service root, e.g. <c>https://cm01.corp.example/AdminService</c>.</param>
    /// <param name="credential">The account the site's administration service admits (Negotiate: Kerberos or NTLM).</param>
    /// <param name="tls">The devices' certificate trust, or a pinned certificate of the site's own.</param>
    /// <param name="options">Timeouts and bounds on what one sync reads.</param>
    /// <param name="logger">Where request failures are reported.</param>
    public AdminServiceClient(Uri adminServiceUrl, CimCredential credential, WsManTlsOptions tls, AdminServiceOptions options, ILogger logger)
    {
        if (adminServiceUrl.Scheme != Uri.UriSchemeHttps)
        {
            throw new AdminServiceException(AdminServiceFailure.Configuration,
                $"The AdminService is reached over HTTPS only; {adminServiceUrl} is not an https:// URL.");
        }

        _root = new Uri(adminServiceUrl.AbsoluteUri.TrimEnd('/') + "/");
        _options = options;
        var network = new NetworkCredential(credential.UserName, credential.Password, credential.Domain ?? string.Empty);
        // Only the Windows schemes, and only for this service: a Basic challenge gets nothing, and neither does another host.
        var credentials = new CredentialCache
        {
            { _root, "Negotiate", network },
            { _root, "NTLM", network },
        };
        RemoteCertificateValidationCallback validate;
        try
        {
            validate = ServerCertificateValidation.For(tls, _root, logger);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new AdminServiceException(AdminServiceFailure.Configuration, $"The certificate settings for {_root.Host} cannot be used: {e.Message}", inner: e);
        }

        // Negotiate authenticates the connection: one kept-alive connection carries the whole sync.
        var handler = new SocketsHttpHandler
        {
            Credentials = credentials,
            MaxConnectionsPerServer = 1,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            MaxResponseHeadersLength = 64,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = validate },
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The collection's name and member count; <see cref="AdminServiceFailure.UnknownCollection"/> when the site has no such collection.</summary>
    public async Task<SiteCollection> ReadCollectionAsync(string collectionId, CancellationToken cancellationToken)
    {
        var found = await QueryAsync<SiteCollection>("SMS_Collection", $"CollectionID eq '{Quote(collectionId)}'", "CollectionID,Name,MemberCount", 10, cancellationToken);
        return found.FirstOrDefault() ?? throw new AdminServiceException(AdminServiceFailure.UnknownCollection,
            $"The site at {_root.Host} has no collection '{collectionId}'.", 404);
    }

    /// <summary>Every member of the collection (checked to exist first, so that a typo is an error rather than an empty fleet).</summary>
    public async Task<IReadOnlyList<CollectionMember>> ReadMembersAsync(string collectionId, CancellationToken cancellationToken)
    {
        await ReadCollectionAsync(collectionId, cancellationToken);
        return await QueryAsync<CollectionMember>("SMS_FullCollectionMembership", $"CollectionID eq '{Quote(collectionId)}'", MemberColumns,
            _options.MaxRows, cancellationToken);
    }

    /// <summary>The <c>SMS_R_System</c> records of <paramref name="resourceIds"/>, by resource id, read in batches.</summary>
    public async Task<IReadOnlyDictionary<long, SystemRecord>> ReadSystemsAsync(IEnumerable<long> resourceIds, CancellationToken cancellationToken)
    {
        var systems = new Dictionary<long, SystemRecord>();
        foreach (var batch in resourceIds.Distinct().Chunk(Math.Max(1, _options.ResourceBatchSize)))
        {
            var filter = string.Join(" or ", batch.Select(id => "ResourceId eq " + id.ToString(CultureInfo.InvariantCulture)));
            foreach (var system in await QueryAsync<SystemRecord>("SMS_R_System", filter, SystemColumns, batch.Length * 4, cancellationToken))
            {
                systems[system.ResourceId] = system;
            }
        }

        return systems;
    }

    private async Task<List<T>> QueryAsync<T>(string wmiClass, string filter, string select, int maxRows, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        Uri? next = new(_root, $"wmi/{wmiClass}?$filter={Uri.EscapeDataString(filter)}&$select={select}");
        var visited = new HashSet<string>(StringComparer.Ordinal);
        while (next is not null)
        {
            if (!visited.Add(next.AbsoluteUri))
            {
                throw new AdminServiceException(AdminServiceFailure.Protocol, $"{_root.Host} sent a next-page link it had already sent ({wmiClass}).");
            }

            var page = await GetPageAsync<T>(next, cancellationToken);
            rows.AddRange(page.Value ?? throw new AdminServiceException(AdminServiceFailure.Protocol,
                $"The reply of {_root.Host} for {wmiClass} has no \"value\" array: not the AdminService's OData."));
            if (rows.Count > maxRows)
            {
                throw new AdminServiceException(AdminServiceFailure.Protocol,
                    $"{wmiClass} on {_root.Host} returned more than {maxRows} rows (Fleet:Inventory:MaxRows).");
            }

            next = page.NextLink is null ? null : NextPage(next, page.NextLink);
        }

        return rows;
    }

    /// <summary>A next-page link is followed only on this service: the credential never goes anywhere else.</summary>
    private Uri NextPage(Uri current, string link)
    {
        if (!Uri.TryCreate(current, link, out var next)
            || next.Scheme != _root.Scheme
            || !string.Equals(next.Authority, _root.Authority, StringComparison.OrdinalIgnoreCase)
            || !next.AbsolutePath.StartsWith(_root.AbsolutePath, StringComparison.OrdinalIgnoreCase))
        {
            throw new AdminServiceException(AdminServiceFailure.Protocol, $"{_root.Host} sent a next-page link outside the service: '{Shorten(link)}'.");
        }

        return next;
    }

    private async Task<ODataPage<T>> GetPageAsync<T>(Uri url, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.RequestTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var body = await ReadBoundedAsync(response, deadline.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw StatusError(response, body);
            }

            try
            {
                return JsonSerializer.Deserialize<ODataPage<T>>(body, Json)
                    ?? throw new AdminServiceException(AdminServiceFailure.Protocol, $"{_root.Host} answered null instead of an OData reply.");
            }
            catch (JsonException e)
            {
                throw new AdminServiceException(AdminServiceFailure.Protocol, $"{_root.Host} sent a reply that is not the AdminService's OData: {e.Message}", inner: e);
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AdminServiceException(AdminServiceFailure.Timeout,
                $"{_root.Host} did not answer within {_options.RequestTimeout.TotalSeconds:0.###} s.", inner: e);
        }
        catch (HttpRequestException e)
        {
            throw Classify(e);
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AdminServiceException(AdminServiceFailure.Unreachable, $"The connection to {_root.Host} failed: {e.Message}", inner: e);
        }
    }

    private AdminServiceException StatusError(HttpResponseMessage response, byte[] body)
    {
        var status = (int)response.StatusCode;
        return response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => new AdminServiceException(AdminServiceFailure.Unauthorized,
                $"{_root.Host} refused the credential (HTTP 401): check the account and its password, and that Negotiate reaches the SMS Provider.", status),
            HttpStatusCode.Forbidden => new AdminServiceException(AdminServiceFailure.Forbidden,
                $"{_root.Host} authenticated the account but refused it (HTTP 403): it needs a ConfigMgr role that reads collections and devices.", status),
            _ => new AdminServiceException(AdminServiceFailure.Protocol,
                $"{_root.Host} answered HTTP {status}{ErrorMessage(body)}.", status),
        };
    }

    /// <summary>The OData error's message (<c>{"error":{"message":...}}</c>) when the body carries one.</summary>
    private static string ErrorMessage(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
            {
                return ": " + Shorten(message.GetString() ?? "");
            }
        }
        catch (JsonException)
        {
        }

        return "";
    }

    private Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        BoundedBody.ReadAsync(response.Content, _options.MaxReplyBytes,
            () => new AdminServiceException(AdminServiceFailure.Protocol,
                $"A reply from {_root.Host} exceeds {_options.MaxReplyBytes} bytes (Fleet:Inventory:MaxReplyBytes)."),
            cancellationToken);

    private AdminServiceException Classify(HttpRequestException e)
    {
        var host = _root.Host;
        if (e.HttpRequestError == HttpRequestError.SecureConnectionError || e.InnerException is AuthenticationException)
        {
            return new AdminServiceException(AdminServiceFailure.Tls, $"TLS with {host} failed: {e.InnerException?.Message ?? e.Message}", inner: e);
        }

        var socketError = (e.InnerException as SocketException ?? e.InnerException?.InnerException as SocketException)?.SocketErrorCode;
        return new AdminServiceException(AdminServiceFailure.Unreachable,
            $"Cannot reach the AdminService at {host}: {e.Message}{(socketError is null ? "" : $" ({socketError})")}", inner: e);
    }

    /// <summary>An OData string literal: a single quote is doubled.</summary>
    private static string Quote(string value) => value.Replace("'", "''", StringComparison.Ordinal);

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";

    public void Dispose() => _http.Dispose();
}
