using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.Security;
using System.Text;

namespace ProvisioningFleet.Simulator.Authentication;

/// <summary>
/// HTTP message encryption of a Negotiate, NTLM or Kerberos session, framed as [MS-WSMV] 2.2.9.1.1 and
/// its example in 4.5: a <c>multipart/encrypted</c> body with a header part naming the original content
/// type and length, and an <c>application/octet-stream</c> part holding a 4-byte little-endian header
/// length, the header, then the sealed message. NTLM's header is its 16-byte signature; Kerberos' is the
/// RFC 4121 wrap token header with the trailer rotated into it (RRC), as <c>gss_wrap_iov</c> lays it out
/// for Windows ([MS-KILE] 3.4.5.4.1), so the data part is exactly as long as the plaintext.
/// </summary>
internal static class SessionEncryption
{
    public const string SpnegoProtocol = "application/HTTP-SPNEGO-session-encrypted";
    public const string KerberosProtocol = "application/HTTP-Kerberos-session-encrypted";

    /// <summary>NTLM's signature is 16 bytes and leads the token <c>Wrap</c> returns.</summary>
    private const int NtlmSignatureLength = 16;

    /// <summary>RFC 4121 token header, AES confounder, and the smallest trailer (header copy + HMAC-SHA1-96).</summary>
    private const int TokenHeaderLength = 16;
    private const int ConfounderLength = 16;
    private const int MinTrailerLength = 28;

    private static readonly byte[] Boundary = "--Encrypted Boundary\r\n"u8.ToArray();
    private static readonly byte[] ClosingBoundary = "--Encrypted Boundary--"u8.ToArray();
    private static readonly byte[] StreamHeader = "\tContent-Type: application/octet-stream\r\n"u8.ToArray();

    public static string ContentType(string protocol) => $"multipart/encrypted;protocol=\"{protocol}\";boundary=\"Encrypted Boundary\"";

    /// <summary>The framing's protocol for an authentication scheme: Kerberos has its own, everything else is SPNEGO's.</summary>
    public static string ProtocolFor(string scheme) =>
        scheme.Equals("Kerberos", StringComparison.OrdinalIgnoreCase) ? KerberosProtocol : SpnegoProtocol;

    public static bool IsEncrypted(string? contentType) =>
        contentType is not null
        && contentType.StartsWith("multipart/encrypted", StringComparison.OrdinalIgnoreCase)
        && (contentType.Contains(SpnegoProtocol, StringComparison.OrdinalIgnoreCase) || contentType.Contains(KerberosProtocol, StringComparison.OrdinalIgnoreCase));

    /// <summary>Checks the framing, unseals the message and checks its length against OriginalContent.</summary>
    public static byte[] Unseal(NegotiateAuthentication session, string protocol, string? contentType, byte[] body)
    {
        if (contentType is null || !contentType.Contains('"' + protocol + '"', StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"This session's messages are {protocol}.");
        }
        var span = body.AsSpan();
        if (!span.StartsWith(Boundary))
        {
            throw new InvalidDataException("The encrypted body does not start with the Encrypted Boundary.");
        }
        span = span[Boundary.Length..];
        var second = span.IndexOf(Boundary);
        if (second < 0)
        {
            throw new InvalidDataException("The encrypted body has no second part.");
        }
        var headers = Encoding.ASCII.GetString(span[..second]);
        span = span[(second + Boundary.Length)..];
        if (!headers.StartsWith("\tContent-Type: " + protocol + "\r\n", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"The first part must be of type {protocol}.");
        }
        var lengthAt = headers.IndexOf("Length=", StringComparison.OrdinalIgnoreCase);
        var lengthEnd = lengthAt < 0 ? -1 : headers.IndexOfAny(['\r', '\n', ';'], lengthAt);
        if (lengthAt < 0 || !headers.Contains("type=application/soap+xml", StringComparison.OrdinalIgnoreCase)
            || !int.TryParse(headers.AsSpan(lengthAt + 7, (lengthEnd < 0 ? headers.Length : lengthEnd) - lengthAt - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var originalLength))
        {
            throw new InvalidDataException("OriginalContent must give type=application/soap+xml and the Length.");
        }
        if (!span.StartsWith(StreamHeader))
        {
            throw new InvalidDataException("The second part must be application/octet-stream.");
        }
        span = span[StreamHeader.Length..];
        var closing = span.LastIndexOf(ClosingBoundary);
        if (closing < 0)
        {
            throw new InvalidDataException("The encrypted body does not end with the closing boundary.");
        }
        var payload = span[..closing];
        if (payload.Length < 4)
        {
            throw new InvalidDataException("The encrypted part is too short.");
        }
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (headerLength <= 0 || headerLength > payload.Length - 4)
        {
            throw new InvalidDataException("The header length is out of range.");
        }
        var token = payload[4..];
        if (IsKerberos(session))
        {
            CheckKerberosHeader(token[..headerLength]);
        }
        else if (headerLength != NtlmSignatureLength)
        {
            throw new InvalidDataException($"An NTLM signature is {NtlmSignatureLength} bytes, not {headerLength}.");
        }
        if (token.Length - headerLength != originalLength)
        {
            throw new InvalidDataException($"The sealed data is {token.Length - headerLength} bytes, OriginalContent says {originalLength}.");
        }

        var plain = new ArrayBufferWriter<byte>(payload.Length);
        var status = session.Unwrap(token, plain, out var wasEncrypted);
        if (status != NegotiateAuthenticationStatusCode.Completed || !wasEncrypted)
        {
            throw new InvalidDataException($"The message could not be unsealed ({status}).");
        }
        if (plain.WrittenCount != originalLength)
        {
            throw new InvalidDataException($"The unsealed message is {plain.WrittenCount} bytes, OriginalContent says {originalLength}.");
        }
        return plain.WrittenSpan.ToArray();
    }

    public static byte[] Seal(NegotiateAuthentication session, string protocol, byte[] message)
    {
        var token = new ArrayBufferWriter<byte>(message.Length + 128);
        var status = session.Wrap(message, token, requestEncryption: true, out var isEncrypted);
        if (status != NegotiateAuthenticationStatusCode.Completed || !isEncrypted)
        {
            throw new InvalidOperationException($"The reply could not be sealed ({status}).");
        }

        var (header, data) = IsKerberos(session)
            ? RotateTrailerIntoHeader(token.WrittenSpan, message.Length)
            : (token.WrittenSpan[..NtlmSignatureLength].ToArray(), token.WrittenSpan[NtlmSignatureLength..].ToArray());

        using var output = new MemoryStream(header.Length + data.Length + 256);
        output.Write(Boundary);
        output.Write(Encoding.ASCII.GetBytes(
            $"\tContent-Type: {protocol}\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={message.Length}\r\n"));
        output.Write(Boundary);
        output.Write(StreamHeader);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, header.Length);
        output.Write(length);
        output.Write(header);
        output.Write(data);
        output.Write(ClosingBoundary);
        output.Write("\r\n"u8);
        return output.ToArray();
    }

    private static bool IsKerberos(NegotiateAuthentication session) =>
        string.Equals(session.Package, "Kerberos", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Wrap gives header | confounder | data | trailer with RRC 0; Windows sends header (RRC = trailer
    /// length) | trailer | confounder, then the data alone.
    /// </summary>
    private static (byte[] Header, byte[] Data) RotateTrailerIntoHeader(ReadOnlySpan<byte> token, int plaintextLength)
    {
        var trailer = token.Length - TokenHeaderLength - ConfounderLength - plaintextLength;
        if (token[0] != 0x05 || token[1] != 0x04 || trailer < MinTrailerLength)
        {
            throw new InvalidOperationException("Only AES Kerberos session keys (RFC 4121 wrap tokens) are served.");
        }
        var header = new byte[TokenHeaderLength + trailer + ConfounderLength];
        token[..TokenHeaderLength].CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), (ushort)trailer);
        token[^trailer..].CopyTo(header.AsSpan(TokenHeaderLength));
        token.Slice(TokenHeaderLength, ConfounderLength).CopyTo(header.AsSpan(TokenHeaderLength + trailer));
        return (header, token.Slice(TokenHeaderLength + ConfounderLength, plaintextLength).ToArray());
    }

    /// <summary>A sealed wrap token from the initiator with its whole trailer rotated into the header.</summary>
    private static void CheckKerberosHeader(ReadOnlySpan<byte> header)
    {
        if (header.Length < TokenHeaderLength + MinTrailerLength + ConfounderLength
            || header[0] != 0x05 || header[1] != 0x04 || header[3] != 0xFF)
        {
            throw new InvalidDataException("The header is not an RFC 4121 wrap token of an AES session key.");
        }
        var flags = header[2];
        if ((flags & 0x01) != 0 || (flags & 0x02) == 0 || (flags & ~0x07) != 0)
        {
            throw new InvalidDataException($"Wrap token flags {flags:X2}: not a sealed message from the client.");
        }
        var extraCount = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
        var rotation = BinaryPrimitives.ReadUInt16BigEndian(header[6..]);
        if (rotation != header.Length - TokenHeaderLength - ConfounderLength || extraCount > rotation - MinTrailerLength)
        {
            throw new InvalidDataException($"RRC {rotation} and EC {extraCount} do not fit a {header.Length}-byte header.");
        }
    }
}
