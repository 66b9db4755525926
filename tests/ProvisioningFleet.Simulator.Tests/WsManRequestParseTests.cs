using System.Text;
using ProvisioningFleet.Simulator.Protocol;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>What <see cref="WsManRequest.Parse"/> keeps of an envelope, read without the HTTP listener around it.</summary>
public sealed class WsManRequestParseTests
{
    private const string Process = SimulatorClient.Wmi + "root/cimv2/Win32_Process";
    private const string Enumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";

    private static WsManRequest Parse(string envelope) => WsManRequest.Parse(Encoding.UTF8.GetBytes(envelope));

    [Fact]
    public void Long_values_and_characters_outside_the_BMP_are_read_whole()
    {
        // A surrogate pair straddling the first growth of the text buffer, then far more than the reader buffers at once.
        var handle = new string('x', 255) + "\U0001F600" + new string('y', 20_000) + "\U0001F600";
        var envelope = SimulatorClient.Envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", Process, string.Empty,
            selectors: $"<w:SelectorSet><w:Selector Name=\"Handle\">{handle[..100]}<!-- split -->{handle[100..]}</w:Selector></w:SelectorSet>");

        var request = Parse(envelope);

        Assert.True(request.HasSelectorSet);
        Assert.Equal(handle, Assert.Single(request.Selectors).Value);
        Assert.Equal(handle, request.Selectors["HANDLE"]);
    }

    [Fact]
    public void The_operation_element_keeps_its_children_in_order_with_their_text_nil_and_dialect()
    {
        var envelope = SimulatorClient.Envelope(Enumeration + "/Enumerate", SimulatorClient.Wmi + "root/cimv2/*",
            $"<n:Enumerate xmlns:n=\"{Enumeration}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
            + "<w:OptimizeEnumeration/><w:MaxElements xsi:nil=\"true\"> 8 </w:MaxElements>"
            + "<n:Filter Dialect=\"urn:first\">SELECT <x:b xmlns:x=\"urn:x\">Name</x:b> FROM <![CDATA[Win32_Process]]></n:Filter>"
            + "<n:Filter Dialect=\"urn:second\">ignored</n:Filter></n:Enumerate><n:NotTheOperation xmlns:n=\"{Enumeration}\"/>");

        var operation = Parse(envelope).BodyElement!;

        Assert.True(operation.Is(Enumeration, "Enumerate"));
        Assert.Equal(
            [("OptimizeEnumeration", "", false, null), ("MaxElements", " 8 ", true, null), ("Filter", "SELECT Name FROM Win32_Process", false, "urn:first"), ("Filter", "ignored", false, "urn:second")],
            operation.Children.Select(c => (c.LocalName, c.Text, c.IsNil, c.Dialect)));
        Assert.Equal("urn:first", operation.Child(Enumeration, "Filter")!.Dialect);
        Assert.Null(operation.Child(Enumeration, "OptimizeEnumeration"));
    }

    [Fact]
    public void Headers_are_kept_trimmed_and_the_first_of_a_kind_wins()
    {
        var envelope = SimulatorClient.Envelope(" http://schemas.xmlsoap.org/ws/2004/09/transfer/Get\n", Process, string.Empty,
            extraHeaders: "<a:Action>urn:second</a:Action><w:ResourceURI>urn:second</w:ResourceURI>" + SimulatorClient.PreciseErrorCodes);

        var request = Parse(envelope);

        Assert.Equal("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", request.Action);
        Assert.Equal(Process, request.ResourceUri);
        Assert.StartsWith("uuid:", request.MessageId);
        Assert.True(request.UsePreciseErrorCodes);
        Assert.False(request.HasSelectorSet);
        Assert.Empty(request.Selectors);
    }

    [Fact]
    public void A_request_full_of_invented_names_leaves_the_next_one_on_the_same_thread_unharmed()
    {
        var invented = string.Concat(Enumerable.Range(0, 3000).Select(i => $"<x{i}:n{i} xmlns:x{i}=\"urn:invented:{i}\" a{i}=\"1\"/>"));
        var probe = SimulatorClient.InvokeEnvelope("root/default", "StdRegProv", "GetStringValue", "<p:sValueName>ProvisioningMode</p:sValueName>");

        var flooded = Parse(SimulatorClient.InvokeEnvelope("root/default", "StdRegProv", "GetStringValue", "<p:sValueName>ProvisioningMode</p:sValueName>").Replace("</s:Header>", invented + "</s:Header>", StringComparison.Ordinal));
        var next = Parse(probe);

        Assert.Equal("ProvisioningMode", flooded.BodyElement!.Children.Single().Text);
        Assert.Equal("ProvisioningMode", next.BodyElement!.Children.Single().Text);
        Assert.Equal(SimulatorClient.Wmi + "root/default/StdRegProv/GetStringValue", next.Action);
    }
}
