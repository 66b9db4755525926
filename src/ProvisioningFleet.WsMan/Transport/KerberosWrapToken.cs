using System.Buffers.Binary;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// The RFC 4121 wrap token (TOK_ID 05 04) in the layout Windows' WinRM uses over HTTP: the
/// <c>gss_wrap_iov</c> HEADER buffer (token header, rotated trailer, confounder) then the data, as long
/// as the plaintext. <see cref="System.Net.Security.NegotiateAuthentication.Wrap"/> gives the same
/// token with RRC 0 (trailer at the end); rotating the trailer to the front and writing its length as
/// RRC gives bytes MIT's <c>gss_unwrap_iov</c> (and Windows) accept, and Unwrap reads the rotated form.
/// </summary>
internal static class KerberosWrapToken
{
    private const int TokenHeaderLength = 16;

    /// <summary>AES: a 16-byte confounder leads the ciphertext.</summary>
    private const int ConfounderLength = 16;

    /// <summary>The smallest trailer: the encrypted 16-byte header copy and a 12-byte HMAC-SHA1-96.</summary>
    private const int MinTrailerLength = 16 + 12;

    private const byte SentByAcceptor = 0x01;
    private const byte Sealed = 0x02;
    private const byte KnownFlags = 0x07;

    /// <summary>Turns a Wrap token (RRC 0) into the HEADER and DATA buffers of the WinRM layout.</summary>
    public static (byte[] Header, byte[] Data) ToIovLayout(ReadOnlySpan<byte> token, int plaintextLength)
    {
        if (token.Length > 0 && token[0] == 0x60)
        {
            // RFC 1964 / RFC 4757 tokens (DES, RC4-HMAC) start with the GSS framing tag.
            throw new CimException(CimErrorCategory.Configuration,
                "The Kerberos session key is not AES (an RC4-HMAC or DES ticket): sealed WinRM over HTTP is supported with AES keys only. "
                + "Enable AES for the account and the computer (msDS-SupportedEncryptionTypes), or use HTTPS.");
        }

        var trailerLength = token.Length - TokenHeaderLength - ConfounderLength - plaintextLength;
        if (token.Length < TokenHeaderLength || token[0] != 0x05 || token[1] != 0x04 || token[3] != 0xFF
            || (token[2] & Sealed) == 0 || BinaryPrimitives.ReadUInt16BigEndian(token[6..]) != 0 || trailerLength < MinTrailerLength)
        {
            throw new CimException(CimErrorCategory.Protocol, "The Kerberos library produced a wrap token this client does not recognise.");
        }

        var header = new byte[TokenHeaderLength + trailerLength + ConfounderLength];
        token[..TokenHeaderLength].CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), checked((ushort)trailerLength));
        token[^trailerLength..].CopyTo(header.AsSpan(TokenHeaderLength));
        token.Slice(TokenHeaderLength, ConfounderLength).CopyTo(header.AsSpan(TokenHeaderLength + trailerLength));
        return (header, token.Slice(TokenHeaderLength + ConfounderLength, plaintextLength).ToArray());
    }

    /// <summary>
    /// Checks a reply's header before it is unwrapped: a sealed wrap token from the acceptor, the whole
    /// trailer rotated into the header, and data exactly as long as OriginalContent.
    /// </summary>
    public static void CheckReply(ReadOnlySpan<byte> header, int dataLength, int originalLength)
    {
        if (header.Length > 0 && header[0] == 0x60)
        {
            throw MessageEncryption.Malformed("the header is an RFC 1964 token (RC4-HMAC or DES), which this client does not accept");
        }

        if (header.Length < TokenHeaderLength + MinTrailerLength + ConfounderLength)
        {
            throw MessageEncryption.Malformed($"a Kerberos header is at least {TokenHeaderLength + MinTrailerLength + ConfounderLength} bytes, not {header.Length}");
        }

        if (header[0] != 0x05 || header[1] != 0x04 || header[3] != 0xFF)
        {
            throw MessageEncryption.Malformed("the header is not a Kerberos wrap token (05 04 .. FF)");
        }

        var flags = header[2];
        if ((flags & ~KnownFlags) != 0 || (flags & SentByAcceptor) == 0 || (flags & Sealed) == 0)
        {
            throw MessageEncryption.Malformed($"the token flags {flags:X2} are not those of a sealed reply from the server");
        }

        var extraCount = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
        var rotation = BinaryPrimitives.ReadUInt16BigEndian(header[6..]);
        if (rotation != header.Length - TokenHeaderLength - ConfounderLength || extraCount > rotation - MinTrailerLength)
        {
            throw MessageEncryption.Malformed($"the rotation count {rotation} and filler {extraCount} do not match a {header.Length}-byte header");
        }

        if (dataLength != originalLength)
        {
            throw MessageEncryption.Malformed($"the sealed data is {dataLength} bytes, OriginalContent says {originalLength}");
        }
    }
}
