using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.Security;
using System.Text;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// The HTTP message encryption of [MS-WSMV] 2.2.9.1.1 (worked example in 4.5): a multipart/encrypted
/// body whose second part is a 4-byte little-endian signature length, the signature, then the sealed
/// SOAP. For NTLM, Wrap returns the 16-byte signature followed by the sealed data, which is exactly
/// that layout after the length prefix.
/// </summary>
internal static class SpnegoEncryption
{
    public const string ContentType = "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"";

    private const int NtlmSignatureLength = 16;

    private static readonly byte[] Boundary = "--Encrypted Boundary\r\n"u8.ToArray();
    private static readonly byte[] FinalBoundary = "--Encrypted Boundary--\r\n"u8.ToArray();
    private static readonly byte[] OctetStreamHeader = "\tContent-Type: application/octet-stream\r\n"u8.ToArray();
    private static readonly byte[] LengthMarker = "Length="u8.ToArray();

    public static byte[] Seal(NegotiateAuthentication session, ReadOnlySpan<byte> soap)
    {
        var sealedData = new ArrayBufferWriter<byte>(soap.Length + 64);
        var status = session.Wrap(soap, sealedData, requestEncryption: true, out var encrypted);
        if (status != NegotiateAuthenticationStatusCode.Completed || !encrypted)
        {
            throw new CimException(CimErrorCategory.Protocol, $"Sealing the message failed ({status}).");
        }

        var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={soap.Length}\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n"));
        var body = new byte[header.Length + 4 + sealedData.WrittenCount + FinalBoundary.Length];
        var span = body.AsSpan();
        header.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[header.Length..], NtlmSignatureLength);
        sealedData.WrittenSpan.CopyTo(span[(header.Length + 4)..]);
        FinalBoundary.CopyTo(span[(header.Length + 4 + sealedData.WrittenCount)..]);
        return body;
    }

    public static byte[] Unseal(NegotiateAuthentication session, ReadOnlySpan<byte> body)
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
        var octetAt = part.IndexOf(OctetStreamHeader);
        if (octetAt < 0)
        {
            throw Malformed("the octet-stream part is missing");
        }

        var payload = part[(octetAt + OctetStreamHeader.Length)..];
        var finalAt = payload.LastIndexOf("--Encrypted Boundary--"u8);
        if (finalAt < 4)
        {
            throw Malformed("the closing boundary is missing");
        }

        payload = payload[..finalAt];
        var signatureLength = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (signatureLength < 0 || signatureLength > payload.Length - 4)
        {
            throw Malformed("the signature length is out of range");
        }

        var plain = new ArrayBufferWriter<byte>(payload.Length);
        var status = session.Unwrap(payload[4..], plain, out _);
        if (status != NegotiateAuthenticationStatusCode.Completed)
        {
            throw new CimException(CimErrorCategory.Protocol, $"The encrypted reply failed its integrity check ({status}).");
        }

        if (plain.WrittenCount != originalLength)
        {
            throw Malformed($"it unsealed to {plain.WrittenCount} bytes, not the {originalLength} announced");
        }

        return plain.WrittenSpan.ToArray();
    }

    private static CimException Malformed(string why) =>
        new(CimErrorCategory.Protocol, $"The encrypted reply is malformed: {why}.");
}
