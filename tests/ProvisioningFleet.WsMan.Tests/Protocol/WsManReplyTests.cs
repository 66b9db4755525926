using System.Text;
using ProvisioningFleet.WsMan.Cim;
using ProvisioningFleet.WsMan.Protocol;

namespace ProvisioningFleet.WsMan.Tests.Protocol;

public class WsManReplyTests
{
    [Fact]
    public void Optimized_enumerate_of_Win32_Process_reads_typed_properties_nil_and_datetimes()
    {
        var page = WsManReply.ReadEnumeration(Fixture.Bytes("enumerate-win32_process.xml"), fallbackClassName: null);

        Assert.Equal("uuid:2C6D8E11-7A9B-4F4B-9E6C-0E1F2A3B4C5D", page.Context);
        Assert.False(page.EndOfSequence);
        var process = Assert.Single(page.Items);
        Assert.Equal("Win32_Process", process.ClassName);
        Assert.Equal("TSManager.exe", process["Name"].AsString());
        Assert.Equal(4312u, process["ProcessId"].AsUInt32());
        Assert.Equal(2203476697088UL, process["VirtualSize"].AsUInt64());
        Assert.Equal("\"C:\\WINDOWS\\CCM\\TSManager.exe\" /service", process["CommandLine"].AsString());
        Assert.True(process["ExecutionState"].IsNull);
        Assert.True(process["InstallDate"].IsNull);
        Assert.Equal(CimValueKind.DateTime, process["CreationDate"].Kind);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 8, 14, 2, TimeSpan.Zero).AddTicks(1234560), process["CreationDate"].AsDateTime());
        Assert.True(process["NoSuchProperty"].IsNull);
    }

    [Fact]
    public void Pull_reads_every_item_and_the_end_of_sequence()
    {
        var page = WsManReply.ReadEnumeration(Fixture.Bytes("pull-win32_process.xml"), fallbackClassName: null);

        Assert.True(page.EndOfSequence);
        Assert.Null(page.Context);
        Assert.Equal(["System Idle Process", "SetupHost.exe"], page.Items.Select(i => i["Name"].AsString()));
        Assert.True(page.Items[0]["CreationDate"].IsNull);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero), page.Items[1]["CreationDate"].AsDateTime());
        Assert.Equal(@"C:\$WINDOWS.~BT\Sources\SetupHost.exe /Install /Package /Quiet", page.Items[1]["CommandLine"].AsString());
    }

    [Fact]
    public void Projection_fragments_take_the_class_name_of_the_query()
    {
        var reply = Envelope("""
            <n:PullResponse xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
              <n:Items><w:XmlFragment><Name>TSManager.exe</Name><ProcessId>4312</ProcessId></w:XmlFragment></n:Items>
              <n:EndOfSequence/>
            </n:PullResponse>
            """);

        var item = Assert.Single(WsManReply.ReadEnumeration(reply, "Win32_Process").Items);

        Assert.Equal("Win32_Process", item.ClassName);
        Assert.Equal(4312L, item["ProcessId"].AsInt64());
    }

    [Fact]
    public void Invoke_output_of_GetStringValue_separates_ReturnValue_from_out_parameters()
    {
        var result = WsManReply.ReadInvoke(Fixture.Bytes("invoke-getstringvalue.xml"), "GetStringValue");

        Assert.Equal(0u, result.ReturnValue.AsUInt32());
        Assert.Equal("true", result["sValue"].AsString());
        Assert.False(result.OutParameters.ContainsKey("ReturnValue"));
    }

    [Fact]
    public void Repeated_out_parameters_are_arrays_in_wire_order()
    {
        var result = WsManReply.ReadInvoke(Fixture.Bytes("invoke-enumvalues.xml"), "EnumValues");

        Assert.Equal(CimValueKind.Array, result["sNames"].Kind);
        Assert.Equal(["ProvisioningMode", "ProvisioningEnabledTime", "ProvisioningMaxMinutes"], result["sNames"].Items.Select(v => v.AsString()));
        Assert.Equal([1L, 11L, 4L], result["Types"].Items.Select(v => v.AsInt64()!.Value));
    }

    [Fact]
    public void Embedded_instances_keep_their_type_and_repeated_properties()
    {
        var reply = Envelope("""
            <p:GetOwner_OUTPUT xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
              <p:Account xsi:type="p:Win32_Account_Type"><p:Name>svc</p:Name><p:Group>a</p:Group><p:Group>b</p:Group></p:Account>
              <p:ReturnValue>0</p:ReturnValue>
            </p:GetOwner_OUTPUT>
            """);

        var account = WsManReply.ReadInvoke(reply, "GetOwner")["Account"];

        Assert.Equal(CimValueKind.Instance, account.Kind);
        Assert.Equal("Win32_Account", account.Instance!.ClassName);
        Assert.Equal("svc", account.Instance["Name"].AsString());
        Assert.Equal(["a", "b"], account.Instance["Group"].Items.Select(v => v.AsString()));
    }

    [Fact]
    public void Invoke_output_with_nil_ReturnValue_reads_as_nil()
    {
        var reply = Envelope("""
            <p:TriggerSchedule_OUTPUT xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/ccm/SMS_Client" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
              <p:ReturnValue xsi:nil="true"/>
            </p:TriggerSchedule_OUTPUT>
            """);

        Assert.True(WsManReply.ReadInvoke(reply, "TriggerSchedule").ReturnValue.IsNull);
    }

    [Fact]
    public void Invoke_reply_without_an_output_element_is_a_protocol_error()
    {
        var reply = Envelope("""<p:Something xmlns:p="urn:x"/>""");

        Assert.Equal(CimErrorCategory.Protocol, Assert.Throws<CimException>(() => WsManReply.ReadInvoke(reply, "GetStringValue")).Category);
    }

    [Fact]
    public void Get_reads_a_singleton_with_datetimes_and_arrays()
    {
        var os = WsManReply.ReadGet(Fixture.Bytes("get-win32_operatingsystem.xml"));

        Assert.Equal("Win32_OperatingSystem", os.ClassName);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 20, 5, 125, TimeSpan.Zero), os["LocalDateTime"].AsDateTime());
        Assert.Equal(["en-US", "de-DE"], os["MUILanguages"].Items.Select(v => v.AsString()));
        Assert.True(os["Primary"].AsBoolean());
        Assert.True(os["OtherTypeDescription"].IsNull);
    }

    [Fact]
    public void Identify_reads_the_product()
    {
        var identity = WsManReply.ReadIdentify(Fixture.Bytes("identify.xml"));

        Assert.Equal("http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd", identity.ProtocolVersion);
        Assert.Equal("Microsoft Corporation", identity.ProductVendor);
        Assert.StartsWith("OS: 10.0.22631", identity.ProductVersion);
    }

    [Fact]
    public void A_WMI_provider_fault_is_decided_by_the_inner_WMI_error()
    {
        var error = Assert.Throws<CimException>(() => WsManReply.ReadInvoke(Fixture.Bytes("fault-invalid-namespace.xml"), "GetStringValue"));

        Assert.Equal(CimErrorCategory.NotFound, error.Category);
        Assert.Equal(0x8004100EL, error.Code);
        Assert.Contains("Invalid namespace", error.Message);
        Assert.Contains("2150858778", error.Message);
        Assert.Contains("0x8004100E", error.Message);
    }

    [Fact]
    public void A_precise_fault_without_a_WSManFault_is_decided_by_MSFT_WmiError()
    {
        var error = Assert.Throws<CimException>(() => WsManReply.ReadEnumeration(Fixture.Bytes("fault-invalid-class-precise.xml"), null));

        Assert.Equal(CimErrorCategory.NotFound, error.Category);
        Assert.Equal(0x80041010L, error.Code);
        Assert.Contains("Invalid class", error.Message);
    }

    [Theory]
    [InlineData("fault-invalid-namespace-text.xml", "invalid namespace")]
    [InlineData("fault-invalid-class-text.xml", "invalid class")]
    public void A_fault_without_precise_codes_is_decided_by_its_text_and_keeps_the_coarse_code(string fixture, string phrase)
    {
        var error = Assert.Throws<CimException>(() => WsManReply.ReadEnumeration(Fixture.Bytes(fixture), null));

        Assert.Equal(CimErrorCategory.NotFound, error.Category);
        Assert.Equal(2150858778L, error.Code);
        Assert.Contains($"The WMI service returned an '{phrase}' error.", error.Message);
        Assert.Contains($"decided by the message text: '{phrase}'", error.Message);
    }

    [Theory]
    [InlineData("3", CimErrorCategory.NotFound)]
    [InlineData("5", CimErrorCategory.NotFound)]
    [InlineData("2", CimErrorCategory.AccessDenied)]
    [InlineData("1", CimErrorCategory.Fault)]
    public void Without_an_error_code_the_CIM_status_code_decides(string cimStatus, CimErrorCategory expected)
    {
        var reply = Envelope($"""
            <s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>
              <s:Reason><s:Text xml:lang="en-US">The operation failed.</s:Text></s:Reason>
              <s:Detail><p:MSFT_WmiError xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/MSFT_WmiError">
                <p:CIMStatusCode>{cimStatus}</p:CIMStatusCode><p:Message>The operation failed.</p:Message>
              </p:MSFT_WmiError></s:Detail></s:Fault>
            """);

        var error = Assert.Throws<CimException>(() => WsManReply.ReadGet(reply));

        Assert.Equal(expected, error.Category);
        Assert.Null(error.Code);
    }

    [Fact]
    public void The_WMI_errors_own_code_is_kept_even_before_the_coarse_WSManFault()
    {
        var reply = Envelope("""
            <s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>
              <s:Reason><s:Text xml:lang="en-US">The RPC server is unavailable.</s:Text></s:Reason>
              <s:Detail>
                <p:MSFT_WmiError xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/MSFT_WmiError">
                  <p:CIMStatusCode>1</p:CIMStatusCode><p:error_Code>2147944122</p:error_Code><p:Message>The RPC server is unavailable.</p:Message>
                </p:MSFT_WmiError>
                <f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858778" Machine="pc-1"><f:Message>The RPC server is unavailable.</f:Message></f:WSManFault>
              </s:Detail></s:Fault>
            """);

        var error = Assert.Throws<CimException>(() => WsManReply.ReadInvoke(reply, "SetClientProvisioningMode"));

        Assert.Equal(CimErrorCategory.Fault, error.Category);
        Assert.Equal(0x800706BAL, error.Code);
        Assert.Contains("2150858778", error.Message);
    }

    [Fact]
    public void A_coarse_fault_whose_text_names_no_deciding_error_stays_a_Fault()
    {
        var reply = Envelope("""
            <s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>
              <s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request. The WMI service returned a 'quota violation' error. </s:Text></s:Reason>
              <s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858778" Machine="pc-1">
                <f:Message>The WS-Management service cannot process the request. The WMI service returned a 'quota violation' error. </f:Message>
              </f:WSManFault></s:Detail></s:Fault>
            """);

        var error = Assert.Throws<CimException>(() => WsManReply.ReadGet(reply));

        Assert.Equal(CimErrorCategory.Fault, error.Category);
        Assert.Equal(2150858778L, error.Code);
    }

    [Fact]
    public void Access_denied_fault_is_AccessDenied_with_its_code()
    {
        var error = Assert.Throws<CimException>(() => WsManReply.ReadGet(Fixture.Bytes("fault-access-denied.xml")));

        Assert.Equal(CimErrorCategory.AccessDenied, error.Category);
        Assert.Equal(5L, error.Code);
        Assert.Contains("Access is denied", error.Message);
    }

    [Fact]
    public void Other_provider_faults_are_Fault_with_the_innermost_code()
    {
        var error = Assert.Throws<CimException>(() => WsManReply.ReadInvoke(Fixture.Bytes("fault-provider-generic.xml"), "SetClientProvisioningMode"));

        Assert.Equal(CimErrorCategory.Fault, error.Category);
        Assert.Equal(0x80041001L, error.Code);
        Assert.Contains("Generic failure", error.Message);
        Assert.Contains("2150858778", error.Message);
    }

    [Theory]
    [InlineData("2147749904", CimErrorCategory.NotFound)]
    [InlineData("2147749891", CimErrorCategory.AccessDenied)]
    [InlineData("-2147217394", CimErrorCategory.NotFound)]
    [InlineData("2147749889", CimErrorCategory.Fault)]
    public void Inner_WMI_codes_choose_the_category(string innerCode, CimErrorCategory expected)
    {
        var reply = Envelope($"""
            <s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>
              <s:Reason><s:Text xml:lang="en-US">failed</s:Text></s:Reason>
              <s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858778">
                <f:Message><f:ProviderFault><f:WSManFault Code="{innerCode}"><f:Message>inner</f:Message></f:WSManFault></f:ProviderFault></f:Message>
              </f:WSManFault></s:Detail></s:Fault>
            """);

        Assert.Equal(expected, Assert.Throws<CimException>(() => WsManReply.ReadGet(reply)).Category);
    }

    [Fact]
    public void A_timed_out_fault_is_Timeout()
    {
        var reply = Envelope("""
            <s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>
              <s:Reason><s:Text xml:lang="en-US">The operation timed out.</s:Text></s:Reason></s:Fault>
            """);

        var error = Assert.Throws<CimException>(() => WsManReply.ReadGet(reply));

        Assert.Equal(CimErrorCategory.Timeout, error.Category);
        Assert.Null(error.Code);
    }

    [Theory]
    [InlineData("not xml at all")]
    [InlineData("<html><body>Bad gateway</body></html>")]
    [InlineData("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><p:X_OUTPUT xmlns:p=\"urn:x\"><p:a>1</p:a>")]
    [InlineData("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>")]
    public void Replies_that_are_not_WS_Management_are_protocol_errors(string text)
    {
        var error = Assert.Throws<CimException>(() => WsManReply.ReadInvoke(Encoding.UTF8.GetBytes(text), "X"));

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
    }

    [Fact]
    public void A_DTD_is_refused_before_any_entity_expands()
    {
        var bomb = """
            <?xml version="1.0"?>
            <!DOCTYPE s:Envelope [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><p:X_OUTPUT xmlns:p="urn:x"><p:v>&c;</p:v></p:X_OUTPUT></s:Body></s:Envelope>
            """;

        var error = Assert.Throws<CimException>(() => WsManReply.ReadInvoke(Encoding.UTF8.GetBytes(bomb), "X"));

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
        Assert.Contains("DTD", error.Message);
    }

    [Fact]
    public void Deeply_nested_replies_are_refused()
    {
        var deep = string.Concat(Enumerable.Repeat("<p:a>", 200)) + string.Concat(Enumerable.Repeat("</p:a>", 200));
        var reply = Envelope($"""<p:X_OUTPUT xmlns:p="urn:x">{deep}</p:X_OUTPUT>""");

        Assert.Equal(CimErrorCategory.Protocol, Assert.Throws<CimException>(() => WsManReply.ReadInvoke(reply, "X")).Category);
    }

    [Fact]
    public void Enumeration_reply_with_neither_context_nor_end_is_a_protocol_error()
    {
        var reply = Envelope("""<n:PullResponse xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><n:Items/></n:PullResponse>""");

        Assert.Equal(CimErrorCategory.Protocol, Assert.Throws<CimException>(() => WsManReply.ReadEnumeration(reply, null)).Category);
    }

    internal static byte[] Envelope(string body) => Encoding.UTF8.GetBytes(
        $"""<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header/><s:Body>{body}</s:Body></s:Envelope>""");
}
