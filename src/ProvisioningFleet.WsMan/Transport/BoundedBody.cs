namespace ProvisioningFleet.WsMan.Transport;

/// <summary>
/// A reply body read whole, never past a cap: the WinRM transport's and the AdminService client's replies both
/// come from hosts that may be hostile. A Content-Length over the cap fails before reading; a declared length is
/// read into a buffer of exactly that size (the content stream ends there, and a shorter body fails the read);
/// only a chunked body grows a buffer as it comes.
/// </summary>
public static class BoundedBody
{
    public static async Task<byte[]> ReadAsync(HttpContent content, int max, Func<Exception> tooLarge, CancellationToken cancellationToken)
    {
        var declared = content.Headers.ContentLength;
        if (declared > max)
        {
            throw tooLarge();
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        if (declared is { } exact)
        {
            var body = new byte[(int)exact];
            await stream.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
            return body;
        }

        var buffer = new byte[Math.Min(16 * 1024, max)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length == max)
                {
                    // One more byte tells a body of exactly the cap from one over it.
                    var probe = new byte[1];
                    if (await stream.ReadAsync(probe, cancellationToken).ConfigureAwait(false) > 0)
                    {
                        throw tooLarge();
                    }

                    break;
                }

                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, max));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        return length == buffer.Length ? buffer : buffer.AsSpan(0, length).ToArray();
    }
}
