using System.Runtime.InteropServices;
using System.Xml;

namespace ProvisioningFleet.WsMan.Protocol;

internal static class WsManXml
{
    /// <summary>
    /// DTDs are refused outright (no entity expansion, no XXE) and nothing is ever resolved; the
    /// character cap backs up the byte cap the transport already applied.
    /// </summary>
    public static XmlReader CreateReader(ReadOnlyMemory<byte> xml)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = Math.Max(xml.Length, 1024),
            MaxCharactersFromEntities = 1024,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
            CloseInput = true,
        };
        var stream = MemoryMarshal.TryGetArray(xml, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(xml.ToArray(), writable: false);
        return XmlReader.Create(stream, settings);
    }
}
