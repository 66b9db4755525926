using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Text;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>
/// A minimal NTLM/Negotiate WinRM caller for the tests: one pinned connection, the handshake over
/// empty POSTs, then messages sealed and framed per [MS-WSMV] 2.2.9.1.1.
/// </summary>
internal sealed class NegotiateTestClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly NegotiateAuthentication _session;
    private readonly string _scheme;

    public NegotiateTestClient(Uri endpoint, NetworkCredential credential, string package = "NTLM", string scheme = "Negotiate")
    {
        _endpoint = endpoint;
        _scheme = scheme;
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        _session = new NegotiateAuthentication(new NegotiateAuthenticationClientOptions
        {
            Package = package,
            Credential = credential,
            TargetName = "HTTP/" + endpoint.Host,
            RequiredProtectionLevel = ProtectionLevel.EncryptAndSign,
        });
    }

    /// <summary>Runs the handshake; returns the final HTTP status (200 when the server accepted).</summary>
    public async Task<HttpStatusCode> AuthenticateAsync()
    {
        byte[]? incoming = null;
        while (true)
        {
            var outgoing = _session.GetOutgoingBlob(incoming, out var status);
            if (status is not (NegotiateAuthenticationStatusCode.ContinueNeeded or NegotiateAuthenticationStatusCode.Completed))
            {
                throw new InvalidOperationException($"Client-side handshake failed: {status}");
            }
            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent([]) };
            request.Headers.Authorization = new AuthenticationHeaderValue(_scheme, Convert.ToBase64String(outgoing ?? []));
            using var response = await _http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault(h => h.Scheme == _scheme)?.Parameter;
            if (response.StatusCode == HttpStatusCode.OK && status == NegotiateAuthenticationStatusCode.ContinueNeeded && challenge is not null)
            {
                // SPNEGO's last leg: the server's accept-completed token (with its mechListMIC) rides on the 200.
                _session.GetOutgoingBlob(Convert.FromBase64String(challenge), out status);
                Assert.Equal(NegotiateAuthenticationStatusCode.Completed, status);
                return response.StatusCode;
            }
            if (status == NegotiateAuthenticationStatusCode.Completed || response.StatusCode != HttpStatusCode.Unauthorized || challenge is null)
            {
                return response.StatusCode;
            }
            incoming = Convert.FromBase64String(challenge);
        }
    }

    public async Task<(HttpStatusCode Status, string? Reply)> SendSealedAsync(string envelope, Func<byte[], byte[]>? tamper = null)
    {
        var message = Encoding.UTF8.GetBytes(envelope);
        var token = new ArrayBufferWriter<byte>();
        Assert.Equal(NegotiateAuthenticationStatusCode.Completed, _session.Wrap(message, token, true, out var encrypted));
        Assert.True(encrypted);

        using var body = new MemoryStream();
        body.Write(Encoding.ASCII.GetBytes("--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
            + $"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={message.Length}\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n"));
        var length = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, 16);
        body.Write(length);
        body.Write(token.WrittenSpan);
        body.Write("--Encrypted Boundary--\r\n"u8);

        var bytes = body.ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(tamper is null ? bytes : tamper(bytes)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type",
            "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"");
        using var response = await _http.SendAsync(request);
        var reply = await response.Content.ReadAsByteArrayAsync();
        if (response.Content.Headers.ContentType?.MediaType != "multipart/encrypted")
        {
            return (response.StatusCode, reply.Length == 0 ? null : Encoding.UTF8.GetString(reply));
        }
        return (response.StatusCode, Encoding.UTF8.GetString(Unseal(reply)));
    }

    public async Task<HttpStatusCode> SendPlainAsync(string envelope)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new StringContent(envelope, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/soap+xml;charset=UTF-8");
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    private byte[] Unseal(byte[] reply)
    {
        var text = Encoding.ASCII.GetString(reply);
        var lengthAt = text.IndexOf("Length=", StringComparison.Ordinal) + "Length=".Length;
        var expected = int.Parse(text[lengthAt..text.IndexOf('\r', lengthAt)], System.Globalization.CultureInfo.InvariantCulture);
        var marker = "\tContent-Type: application/octet-stream\r\n";
        var start = text.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        var end = text.LastIndexOf("--Encrypted Boundary--", StringComparison.Ordinal);
        var payload = reply.AsSpan(start, end - start);
        Assert.Equal(16, BinaryPrimitives.ReadInt32LittleEndian(payload));
        var plain = new ArrayBufferWriter<byte>();
        Assert.Equal(NegotiateAuthenticationStatusCode.Completed, _session.Unwrap(payload[4..], plain, out var wasEncrypted));
        Assert.True(wasEncrypted);
        Assert.Equal(expected, plain.WrittenCount);
        return plain.WrittenSpan.ToArray();
    }

    public void Dispose()
    {
        _session.Dispose();
        _http.Dispose();
    }
}
