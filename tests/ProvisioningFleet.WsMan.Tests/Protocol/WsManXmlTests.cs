using System.Text;
using System.Xml;
using ProvisioningFleet.WsMan.Cim;
using ProvisioningFleet.WsMan.Protocol;

namespace ProvisioningFleet.WsMan.Tests.Protocol;

/// <summary>The name table the replies read on one thread share, and its bound.</summary>
public class WsManXmlTests
{
    [Fact]
    public void Replies_read_on_one_thread_share_one_name_table()
    {
        var first = NameTableOf(Fixture.Bytes("invoke-getstringvalue.xml"));
        var second = NameTableOf(Fixture.Bytes("identify.xml"));

        Assert.IsType<WsManNameTable>(first);
        Assert.Same(first, second);
    }

    [Fact]
    public void The_names_the_readers_look_for_come_back_as_the_very_strings_they_compare_with()
    {
        var table = new WsManNameTable();
        var body = "<s:Body>".ToCharArray();

        Assert.Same("Body", table.Add(body, 3, 4));
        Assert.Same(WsManNames.Soap, table.Get(WsManNames.Soap.ToCharArray(), 0, WsManNames.Soap.Length));
        Assert.False(table.IsFull);
    }

    [Fact]
    public void The_table_is_full_past_its_bound_on_names_or_on_characters()
    {
        var manyNames = new WsManNameTable();
        for (var i = 0; i <= WsManNameTable.MaxNames; i++)
        {
            manyNames.Add($"Property{i}");
        }

        var oneLongName = new WsManNameTable();
        oneLongName.Add(new string('x', WsManNameTable.MaxNameChars + 1));
        var repeated = new WsManNameTable();
        for (var i = 0; i <= WsManNameTable.MaxNames; i++)
        {
            repeated.Add("Property");
        }

        Assert.True(manyNames.IsFull);
        Assert.True(oneLongName.IsFull);
        Assert.False(repeated.IsFull);
    }

    [Fact]
    public void A_reply_with_more_names_than_the_bound_reads_in_full_and_the_next_reply_gets_a_new_table()
    {
        var before = NameTableOf(Fixture.Bytes("invoke-getstringvalue.xml"));
        var count = WsManNameTable.MaxNames + 50;
        var properties = string.Concat(Enumerable.Range(0, count).Select(i => $"<p:Out{i}>{i}</p:Out{i}>"));
        var reply = WsManReplyTests.Envelope($"""<p:Many_OUTPUT xmlns:p="urn:x">{properties}<p:ReturnValue>0</p:ReturnValue></p:Many_OUTPUT>""");

        var result = WsManReply.ReadInvoke(reply, "Many");
        var after = NameTableOf(Fixture.Bytes("invoke-getstringvalue.xml"));

        Assert.Equal(0u, result.ReturnValue.AsUInt32());
        Assert.Equal(count, result.OutParameters.Count);
        Assert.Equal($"{count - 1}", result[$"Out{count - 1}"].AsString());
        Assert.NotSame(before, after);
        Assert.Same(after, NameTableOf(Fixture.Bytes("invoke-getstringvalue.xml")));
    }

    [Fact]
    public void A_name_longer_than_the_bound_reads_in_full_and_the_next_reply_gets_a_new_table()
    {
        var before = NameTableOf(Fixture.Bytes("invoke-getstringvalue.xml"));
        var longName = "Out" + new string('n', WsManNameTable.MaxNameChars);
        var reply = WsManReplyTests.Envelope($"""<p:Long_OUTPUT xmlns:p="urn:x"><p:{longName}>v</p:{longName}><p:ReturnValue>0</p:ReturnValue></p:Long_OUTPUT>""");

        var result = WsManReply.ReadInvoke(reply, "Long");

        Assert.Equal("v", result[longName].AsString());
        Assert.NotSame(before, NameTableOf(Fixture.Bytes("invoke-getstringvalue.xml")));
    }

    [Fact]
    public void Prefixes_are_the_replys_own_whatever_an_earlier_reply_bound_them_to()
    {
        WsManReply.ReadInvoke(Fixture.Bytes("invoke-getstringvalue.xml"), "GetStringValue");
        // Other prefixes for the same namespaces, a default namespace, and ours (s, p) bound elsewhere.
        var renamed = Encoding.UTF8.GetBytes("""
            <env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:s="urn:not-soap">
              <env:Header><s:Body>decoy</s:Body></env:Header>
              <env:Body>
                <GetStringValue_OUTPUT xmlns="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/StdRegProv" xmlns:p="urn:other">
                  <sValue>true</sValue>
                  <p:Extra>x</p:Extra>
                  <ReturnValue>0</ReturnValue>
                </GetStringValue_OUTPUT>
              </env:Body>
            </env:Envelope>
            """);
        var soapPrefixElsewhere = Encoding.UTF8.GetBytes("""
            <s:Envelope xmlns:s="urn:not-soap"><s:Body><p:GetStringValue_OUTPUT xmlns:p="urn:x"><p:ReturnValue>0</p:ReturnValue></p:GetStringValue_OUTPUT></s:Body></s:Envelope>
            """);

        var result = WsManReply.ReadInvoke(renamed, "GetStringValue");
        var notSoap = Assert.Throws<CimException>(() => WsManReply.ReadInvoke(soapPrefixElsewhere, "GetStringValue"));

        Assert.Equal(0u, result.ReturnValue.AsUInt32());
        Assert.Equal("true", result["sValue"].AsString());
        Assert.Equal("x", result["Extra"].AsString());
        Assert.Equal(CimErrorCategory.Protocol, notSoap.Category);
        Assert.Contains("not a SOAP 1.2 envelope", notSoap.Message);
    }

    [Fact]
    public void A_reply_that_fails_to_read_hands_the_table_on_and_the_next_DTD_is_still_refused()
    {
        var before = NameTableOf(Fixture.Bytes("invoke-getstringvalue.xml"));
        Assert.Throws<CimException>(() => WsManReply.ReadInvoke(Encoding.UTF8.GetBytes("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>"), "X"));
        Assert.Throws<CimException>(() => WsManReply.ReadInvoke(Fixture.Bytes("fault-access-denied.xml"), "X"));
        var external = """
            <!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><p:X_OUTPUT xmlns:p="urn:x"><p:v>&xxe;</p:v></p:X_OUTPUT></s:Body></s:Envelope>
            """;

        var refused = Assert.Throws<CimException>(() => WsManReply.ReadInvoke(Encoding.UTF8.GetBytes(external), "X"));

        Assert.Equal(CimErrorCategory.Protocol, refused.Category);
        Assert.Contains("DTD", refused.Message);
        Assert.DoesNotContain("root:", refused.Message);
        Assert.Same(before, NameTableOf(Fixture.Bytes("invoke-getstringvalue.xml")));
    }

    [Fact]
    public void Each_reply_has_its_own_character_cap()
    {
        // A big reply first must not lift the cap of a later one: the cap is the reply's own length.
        var big = WsManReplyTests.Envelope($"""<p:Big_OUTPUT xmlns:p="urn:x"><p:v>{new string('a', 100_000)}</p:v></p:Big_OUTPUT>""");
        WsManReply.ReadInvoke(big, "Big");
        using var opened = WsManXml.CreateReader(Fixture.Bytes("identify.xml"));

        Assert.Equal(Math.Max(Fixture.Bytes("identify.xml").Length, 1024), opened.Reader.Settings!.MaxCharactersInDocument);
        Assert.Equal(DtdProcessing.Prohibit, opened.Reader.Settings.DtdProcessing);
    }

    [Fact]
    public void Replies_read_at_once_on_many_threads_each_read_in_full()
    {
        var getStringValue = Fixture.Bytes("invoke-getstringvalue.xml");
        var pull = Fixture.Bytes("pull-win32_process.xml");
        var fault = Fixture.Bytes("fault-access-denied.xml");

        Parallel.For(0, 3000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            switch (i % 3)
            {
                case 0:
                    Assert.Equal("true", WsManReply.ReadInvoke(getStringValue, "GetStringValue")["sValue"].AsString());
                    break;
                case 1:
                    Assert.Equal(["System Idle Process", "SetupHost.exe"], WsManReply.ReadEnumeration(pull, null).Items.Select(p => p["Name"].AsString()));
                    break;
                default:
                    Assert.Equal(CimErrorCategory.AccessDenied, Assert.Throws<CimException>(() => WsManReply.ReadInvoke(fault, "X")).Category);
                    break;
            }
        });
    }

    private static XmlNameTable NameTableOf(byte[] reply)
    {
        using var opened = WsManXml.CreateReader(reply);
        return opened.Reader.NameTable;
    }
}
