using System.Runtime.InteropServices;
using System.Xml;

namespace ProvisioningFleet.WsMan.Protocol;

internal static class WsManXml
{
    /// <summary>
    /// The settings, and with them the name table, of the next reply read on this thread. A reply is read
    /// start to end without yielding the thread, so one thread never reads two at once with them.
    /// </summary>
    [ThreadStatic]
    private static XmlReaderSettings? _threadSettings;

    /// <summary>
    /// DTDs are refused outright (no entity expansion, no XXE) and nothing is ever resolved; the
    /// character cap backs up the byte cap the transport already applied. Dispose the result, which
    /// hands the thread's name table on to its next reply.
    /// </summary>
    public static ReplyXmlReader CreateReader(ReadOnlyMemory<byte> xml)
    {
        var settings = _threadSettings ?? NewSettings();
        // Off the thread while this reply is open: a reply opened inside it (none is today) would get its own.
        _threadSettings = null;
        settings.MaxCharactersInDocument = Math.Max(xml.Length, 1024);
        var stream = MemoryMarshal.TryGetArray(xml, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(xml.ToArray(), writable: false);
        try
        {
            return new ReplyXmlReader(XmlReader.Create(stream, settings), settings);
        }
        catch
        {
            Release(settings);
            throw;
        }
    }

    internal static void Release(XmlReaderSettings settings) =>
        _threadSettings = ((WsManNameTable)settings.NameTable!).IsFull ? null : settings;

    private static XmlReaderSettings NewSettings() => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersFromEntities = 1024,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        CloseInput = true,
        NameTable = new WsManNameTable(),
    };
}

/// <summary>A reply's reader, and on dispose the return of its settings to the thread (<see cref="WsManXml"/>).</summary>
internal readonly struct ReplyXmlReader(XmlReader reader, XmlReaderSettings settings) : IDisposable
{
    public XmlReader Reader => reader;

    public void Dispose()
    {
        reader.Dispose();
        WsManXml.Release(settings);
    }
}
