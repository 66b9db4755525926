using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>Basic authentication: every request carries the credential, so requests may share connections.</summary>
internal sealed class BasicTransport(WsManClientOptions options, ILogger logger)
    : WsManTransport(options, logger, maxConnections: 8)
{
    private readonly AuthenticationHeaderValue _authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
        (options.Credential!.Domain is { Length: > 0 } domain ? $@"{domain}\{options.Credential.UserName}" : options.Credential.UserName)
        + ":" + options.Credential.Password)));

    protected override async Task<ReadOnlyMemory<byte>> SendCoreAsync(byte[] envelope, CancellationToken cancellationToken)
    {
        using var request = NewRequest();
        request.Headers.Authorization = _authorization;
        request.Content = new ByteArrayContent(envelope);
        request.Content.Headers.ContentType = SoapContentType;
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var body = await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false);
        return CarriesSoap(response) ? body : throw StatusError(response);
    }
}
