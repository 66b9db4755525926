"""Drives the simulator with Debian's pywinrm: NTLM, message encryption always, raw envelopes.

Usage: pywinrm_probe.py ENDPOINT USER PASSWORD
Prints one JSON object: what the simulator answered, as pywinrm decrypted it.
"""
import json
import sys
import uuid
import xml.etree.ElementTree as ET

from winrm.protocol import Protocol

WMI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
SOAP = "{http://www.w3.org/2003/05/soap-envelope}"


def envelope(action, resource, body):
    return f"""<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
<s:Header><a:To>{sys.argv[1]}</a:To><w:ResourceURI s:mustUnderstand="true">{resource}</w:ResourceURI>
<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
<a:Action s:mustUnderstand="true">{action}</a:Action><w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize>
<a:MessageID>uuid:{uuid.uuid4()}</a:MessageID><w:OperationTimeout>PT30S</w:OperationTimeout></s:Header>
<s:Body>{body}</s:Body></s:Envelope>"""


def invoke(protocol, namespace, cls, method, params):
    uri = WMI + namespace + "/" + cls
    body = f'<p:{method}_INPUT xmlns:p="{uri}">{params}</p:{method}_INPUT>'
    reply = ET.fromstring(protocol.send_message(envelope(uri + "/" + method, uri, body)))
    output = reply.find(SOAP + "Body")[0]
    return {child.tag.split("}")[1]: child.text for child in output}


def main():
    endpoint, user, password = sys.argv[1:4]
    protocol = Protocol(endpoint=endpoint, transport="ntlm", username=user, password=password,
                        message_encryption="always", server_cert_validation="ignore")
    ccmexec = "<p:hDefKey>2147483650</p:hDefKey><p:sSubKeyName>SOFTWARE\\Microsoft\\CCM\\CcmExec</p:sSubKeyName>"
    result = {}
    result["modeBefore"] = invoke(protocol, "root/default", "StdRegProv", "GetStringValue",
                                  ccmexec + "<p:sValueName>ProvisioningMode</p:sValueName>")
    result["enabledTime"] = invoke(protocol, "root/default", "StdRegProv", "GetQWORDValue",
                                   ccmexec + "<p:sValueName>ProvisioningEnabledTime</p:sValueName>")
    wql = "SELECT Name FROM Win32_Process WHERE Name='TSManager.exe' OR Name='SetupHost.exe'"
    enumerate = envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", WMI + "root/cimv2/*",
                         '<n:Enumerate xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration">'
                         '<w:OptimizeEnumeration/><w:MaxElements>32</w:MaxElements>'
                         f'<w:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">{wql}</w:Filter></n:Enumerate>')
    reply = ET.fromstring(protocol.send_message(enumerate))
    result["processes"] = [e.text for e in reply.iter() if e.tag.endswith("}Name")]
    result["fix"] = invoke(protocol, "root/ccm", "SMS_Client", "SetClientProvisioningMode", "<p:bEnable>false</p:bEnable>")
    result["modeAfter"] = invoke(protocol, "root/default", "StdRegProv", "GetStringValue",
                                 ccmexec + "<p:sValueName>ProvisioningMode</p:sValueName>")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
