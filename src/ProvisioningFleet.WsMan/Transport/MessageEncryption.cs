using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Text;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// The HTTP message encryption of [MS-WSMV] 2.2.9.1.1 (worked example in 4.5): a multipart/encrypted
/// body whose second part is a 4-byte little-endian header length, the header, then the sealed SOAP.
/// The header is what <c>gss_wrap_iov</c> puts in its HEADER buffer: NTLM's 16-byte signature, or for
/// Kerberos the RFC 4121 wrap token header with the trailer rotated into it (RRC), so that the data
/// part is exactly as long as the plaintext ([MS-KILE] 3.4.5.4.1).
/// </summary>
internal sealed class MessageEncryption
{
    public static readonly MessageEncryption Spnego = new("application/HTTP-SPNEGO-session-encrypted");
    public static readonly MessageEncryption Kerberos = new("application/HTTP-Kerberos-session-encrypted");

    private const int NtlmSignatureLength = 16;

    private static readonly byte[] Boundary = "--Encrypted Boundary\r\n"u8.ToArray();
    private static readonly byte[] FinalBoundary = "--Encrypted Boundary--\r\n"u8.ToArray();
    private static readonly byte[] OctetStreamHeader = "\tContent-Type: application/octet-stream\r\n"u8.ToArray();
    private static readonly byte[] LengthMarker = "Length="u8.ToArray();

    private readonly byte[] _protocolHeader;

    private MessageEncryption(string protocol)
    {
        Protocol = protocol;
        ContentType = $"multipart/encrypted;protocol=\"{protocol}\";boundary=\"Encrypted Boundary\"";
        _protocolHeader = Encoding.ASCII.GetBytes($"\tContent-Type: {protocol}\r\n");
    }

    public string Protocol { get; }

    public string ContentType { get; }

    /// <summary>
    /// Seals <paramref name="soap"/>; false when the security context has expired (the caller
    /// authenticates again), a <see cref="CimException"/> for anything else.
    /// </summary>
    public bool TrySeal(NegotiateAuthentication session, ReadOnlySpan<byte> soap, out byte[] body)
    {
        body = [];
        var token = new ArrayBufferWriter<byte>(soap.Length + 128);
        var status = session.Wrap(soap, token, requestEncryption: true, out var encrypted);
        if (status is NegotiateAuthenticationStatusCode.ContextExpired or NegotiateAuthenticationStatusCode.CredentialsExpired)
        {
            return false;
        }

        if (status != NegotiateAuthenticationStatusCode.Completed || !encrypted)
        {
            throw new CimException(CimErrorCategory.Protocol, $"Sealing the message failed ({status}).");
        }

        var isKerberos = string.Equals(session.Package, "Kerberos", StringComparison.OrdinalIgnoreCase);
        var (header, data) = isKerberos ? KerberosWrapToken.ToIovLayout(token.WrittenSpan, soap.Length) : NtlmLayout(token.WrittenSpan);

        var framing = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"--Encrypted Boundary\r\n\tContent-Type: {Protocol}\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={soap.Length}\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n"));
        body = new byte[framing.Length + 4 + header.Length + data.Length + FinalBoundary.Length];
        var span = body.AsSpan();
        framing.CopyTo(span);
        span = span[framing.Length..];
        BinaryPrimitives.WriteInt32LittleEndian(span, header.Length);
        header.CopyTo(span[4..]);
        data.CopyTo(span[(4 + header.Length)..]);
        FinalBoundary.CopyTo(span[(4 + header.Length + data.Length)..]);
        return true;
    }

    /// <summary>
    /// Checks the framing and the header's structure strictly, unseals, and checks the length against
    /// OriginalContent. Anything out of shape is a Protocol error: a sealed session trusts nothing else.
    /// </summary>
    public byte[] Unseal(NegotiateAuthentication session, ReadOnlySpan<byte> body)
    {
        if (!body.StartsWith(Boundary))
        {
            throw Malformed("it does not start with the boundary");
        }

        var second = body[Boundary.Length..].IndexOf(Boundary);
        if (second < 0)
        {
            throw Malformed("the second part is missing");
        }

        var headers = body.Slice(Boundary.Length, second);
        if (headers.IndexOf(_protocolHeader) != 0)
        {
            throw Malformed($"the first part is not of type {Protocol}");
        }

        var lengthAt = headers.LastIndexOf(LengthMarker);
        if (lengthAt < 0)
        {
            throw Malformed("OriginalContent has no Length");
        }

        var digits = headers[(lengthAt + LengthMarker.Length)..];
        var end = digits.IndexOfAnyExcept("0123456789"u8);
        if (!int.TryParse(end < 0 ? digits : digits[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var originalLength))
        {
            throw Malformed("Length is not a number");
        }

        var part = body[(Boundary.Length + second + Boundary.Length)..];
        if (!part.StartsWith(OctetStreamHeader))
        {
            throw Malformed("the octet-stream part is missing");
        }

        var payload = part[OctetStreamHeader.Length..];
        var finalAt = payload.LastIndexOf("--Encrypted Boundary--"u8);
        if (finalAt < 4)
        {
            throw Malformed("the closing boundary is missing");
        }

        payload = payload[..finalAt];
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (headerLength <= 0 || headerLength > payload.Length - 4)
        {
            throw Malformed("the header length is out of range");
        }

        var token = payload[4..];
        if (string.Equals(session.Package, "Kerberos", StringComparison.OrdinalIgnoreCase))
        {
            KerberosWrapToken.CheckReply(token[..headerLength], token.Length - headerLength, originalLength);
        }
        else if (headerLength != NtlmSignatureLength || token.Length - headerLength != originalLength)
        {
            throw Malformed($"an NTLM message has a {NtlmSignatureLength}-byte signature and data as long as OriginalContent");
        }

        var plain = new ArrayBufferWriter<byte>(token.Length);
        var status = session.Unwrap(token, plain, out var wasEncrypted);
        if (status != NegotiateAuthenticationStatusCode.Completed)
        {
            throw new CimException(CimErrorCategory.Protocol, $"The encrypted reply failed its integrity check ({status}).");
        }

        if (!wasEncrypted)
        {
            throw Malformed("it is signed but not encrypted");
        }

        if (plain.WrittenCount != originalLength)
        {
            throw Malformed($"it unsealed to {plain.WrittenCount} bytes, not the {originalLength} announced");
        }

        return plain.WrittenSpan.ToArray();
    }

    /// <summary>True when a reply's Content-Type is this session's encrypted framing (protocol included).</summary>
    public bool Matches(MediaTypeHeaderValue? contentType) =>
        contentType is not null
        && string.Equals(contentType.MediaType, "multipart/encrypted", StringComparison.OrdinalIgnoreCase)
        && contentType.Parameters.Any(p => string.Equals(p.Name, "protocol", StringComparison.OrdinalIgnoreCase)
            && string.Equals(p.Value?.Trim('"'), Protocol, StringComparison.OrdinalIgnoreCase));

    /// <summary>NTLM's Wrap gives the 16-byte signature then the sealed data: already the HEADER, DATA layout.</summary>
    private static (byte[] Header, byte[] Data) NtlmLayout(ReadOnlySpan<byte> token) =>
        (token[..NtlmSignatureLength].ToArray(), token[NtlmSignatureLength..].ToArray());

    internal static CimException Malformed(string why) =>
        new(CimErrorCategory.Protocol, $"The encrypted reply is malformed: {why}.");
}
