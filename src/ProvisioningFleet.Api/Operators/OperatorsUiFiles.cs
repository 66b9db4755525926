using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace ProvisioningFleet.Api.Operators;

/// <summary>
/// The overview pages (wwwroot/ui), compiled into the assembly as resources named <c>ui/...</c>, so that
/// they are served the same from a build folder, a published folder, a container and a test host,
/// whatever the content root is. A few dozen kilobytes, read once; each file answers with a content
/// hash as its ETag and <c>no-cache</c>, so browsers revalidate and never run a stale script after an upgrade.
/// </summary>
internal sealed class OperatorsUiFiles
{
    private const string Prefix = "ui/";

    private readonly FrozenDictionary<string, UiFile> _files;

    public OperatorsUiFiles()
    {
        var assembly = typeof(OperatorsUiFiles).Assembly;
        var types = new FileExtensionContentTypeProvider();
        _files = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal))
            .ToFrozenDictionary(name => name[Prefix.Length..], name =>
            {
                using var stream = assembly.GetManifestResourceStream(name)!;
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                var content = buffer.ToArray();
                var contentType = types.TryGetContentType(name, out var known) ? known : "application/octet-stream";
                var tag = new EntityTagHeaderValue($"\"{Convert.ToHexString(SHA256.HashData(content).AsSpan(0, 12))}\"");
                return new UiFile(content, contentType, tag);
            }, StringComparer.Ordinal);
    }

    public IEnumerable<string> Paths => _files.Keys;

    public IResult Serve(string path, HttpContext context)
    {
        if (!_files.TryGetValue(path, out var file))
        {
            return TypedResults.NotFound();
        }
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Bytes(file.Content, file.ContentType, entityTag: file.Tag);
    }

    private sealed record UiFile(byte[] Content, string ContentType, EntityTagHeaderValue Tag);
}
