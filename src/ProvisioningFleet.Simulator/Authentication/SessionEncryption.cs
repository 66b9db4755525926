using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.Security;
using System.Text;

namespace ProvisioningFleet.Simulator.Authentication;

/// <summary>
/// HTTP message encryption of a Negotiate (NTLM) session, framed as [MS-WSMV] 2.2.9.1.1 and its
/// example in 4.5: a <c>multipart/encrypted</c> body with a header part naming the original content
/// type and length, and an <c>application/octet-stream</c> part holding a 4-byte little-endian
/// signature length, the signature, then the sealed message.
/// </summary>
internal static class SessionEncryption
{
    public const string Protocol = "application/HTTP-SPNEGO-session-encrypted";
    public const string ContentType = "multipart/encrypted;protocol=\"" + Protocol + "\";boundary=\"Encrypted Boundary\"";

    /// <summary>NTLM's signature is 16 bytes and leads the token <c>Wrap</c> returns.</summary>
    private const int NtlmSignatureLength = 16;

    private static readonly byte[] Boundary = "--Encrypted Boundary\r\n"u8.ToArray();
    private static readonly byte[] ClosingBoundary = "--Encrypted Boundary--"u8.ToArray();
    private static readonly byte[] StreamHeader = "\tContent-Type: application/octet-stream\r\n"u8.ToArray();

    public static bool IsEncrypted(string? contentType) =>
        contentType is not null
        && contentType.StartsWith("multipart/encrypted", StringComparison.OrdinalIgnoreCase)
        && contentType.Contains(Protocol, StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks the framing, unseals the message and checks its length against OriginalContent.</summary>
    public static byte[] Unseal(NegotiateAuthentication session, byte[] body)
    {
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
        if (!headers.Contains("Content-Type: " + Protocol, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"The first part must be of type {Protocol}.");
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
        var signatureLength = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (signatureLength <= 0 || signatureLength > payload.Length - 4)
        {
            throw new InvalidDataException("The signature length is out of range.");
        }

        var plain = new ArrayBufferWriter<byte>(payload.Length);
        var status = session.Unwrap(payload[4..], plain, out var wasEncrypted);
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

    public static byte[] Seal(NegotiateAuthentication session, byte[] message)
    {
        var token = new ArrayBufferWriter<byte>(message.Length + 64);
        var status = session.Wrap(message, token, requestEncryption: true, out var isEncrypted);
        if (status != NegotiateAuthenticationStatusCode.Completed || !isEncrypted)
        {
            throw new InvalidOperationException($"The reply could not be sealed ({status}).");
        }

        using var output = new MemoryStream(token.WrittenCount + 256);
        output.Write(Boundary);
        output.Write(Encoding.ASCII.GetBytes(
            $"\tContent-Type: {Protocol}\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={message.Length}\r\n"));
        output.Write(Boundary);
        output.Write(StreamHeader);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, NtlmSignatureLength);
        output.Write(length);
        output.Write(token.WrittenSpan);
        output.Write(ClosingBoundary);
        output.Write("\r\n"u8);
        return output.ToArray();
    }
}
