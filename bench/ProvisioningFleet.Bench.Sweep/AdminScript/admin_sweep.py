"""The provisioning-mode sweep an administrator writes today: the peer our service is measured against.

Debian's python3-winrm, a pool of 32 threads (PowerShell's default throttle), one session per device and
one WS-Management call per value read, as a script built from Invoke-CimMethod / Get-CimInstance calls does:
  1. StdRegProv.GetStringValue  ProvisioningMode
  2. StdRegProv.GetStringValue  ProvisioningEnabledTime (GetQWORDValue when the value is a REG_QWORD)
  3. StdRegProv.GetDWORDValue   ProvisioningMaxMinutes
  4. WQL Enumerate              Win32_Process named TSManager.exe or SetupHost.exe
  5. SMS_Client.SetClientProvisioningMode(false), only for a client in provisioning mode past its own timeout
     (ProvisioningMaxMinutes, 2880 when missing or 0) with no task-sequence process.

Usage: admin_sweep.py DEVICES_CSV USER PASSWORD [THREADS]
DEVICES_CSV has the columns hostName,endpoint (Basic over HTTP). Prints one JSON object with the figures.
"""
import csv
import json
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

from winrm.protocol import Protocol

WMI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
SOAP = "{http://www.w3.org/2003/05/soap-envelope}"
HKLM = "2147483650"
CCMEXEC = "SOFTWARE\\Microsoft\\CCM\\CcmExec"
TYPE_MISMATCH = "2147749893"
DEFAULT_MAX_MINUTES = 2880


def envelope(endpoint, action, resource, body):
    return f"""<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
<s:Header><a:To>{endpoint}</a:To><w:ResourceURI s:mustUnderstand="true">{resource}</w:ResourceURI>
<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
<a:Action s:mustUnderstand="true">{action}</a:Action><w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize>
<a:MessageID>uuid:{uuid.uuid4()}</a:MessageID><w:OperationTimeout>PT30S</w:OperationTimeout></s:Header>
<s:Body>{body}</s:Body></s:Envelope>"""


class Device:
    def __init__(self, endpoint, user, password):
        self.endpoint = endpoint
        self.calls = 0
        self.protocol = Protocol(endpoint=endpoint, transport="basic", username=user, password=password,
                                 server_cert_validation="ignore", read_timeout_sec=40, operation_timeout_sec=30)

    def send(self, message):
        self.calls += 1
        return ET.fromstring(self.protocol.send_message(message))

    def invoke(self, namespace, cls, method, params):
        uri = WMI + namespace + "/" + cls
        body = f'<p:{method}_INPUT xmlns:p="{uri}">{params}</p:{method}_INPUT>'
        output = self.send(envelope(self.endpoint, uri + "/" + method, uri, body)).find(SOAP + "Body")[0]
        return {child.tag.split("}")[1]: child.text for child in output}

    def registry(self, getter, value):
        return self.invoke("root/default", "StdRegProv", getter,
                           f"<p:hDefKey>{HKLM}</p:hDefKey><p:sSubKeyName>{CCMEXEC}</p:sSubKeyName><p:sValueName>{value}</p:sValueName>")

    def processes(self):
        wql = "SELECT Name FROM Win32_Process WHERE Name='TSManager.exe' OR Name='SetupHost.exe'"
        reply = self.send(envelope(self.endpoint, "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", WMI + "root/cimv2/*",
                                   '<n:Enumerate xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration">'
                                   '<w:OptimizeEnumeration/><w:MaxElements>32</w:MaxElements>'
                                   f'<w:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">{wql}</w:Filter></n:Enumerate>'))
        return [e.text for e in reply.iter() if e.tag.endswith("}Name")]


def sweep_one(row, user, password, now):
    device = Device(row["endpoint"], user, password)
    try:
        mode = device.registry("GetStringValue", "ProvisioningMode").get("sValue")
        enabled = device.registry("GetStringValue", "ProvisioningEnabledTime")
        if enabled.get("ReturnValue") == TYPE_MISMATCH:
            enabled = {"sValue": device.registry("GetQWORDValue", "ProvisioningEnabledTime").get("uValue")}
        max_minutes = device.registry("GetDWORDValue", "ProvisioningMaxMinutes").get("uValue")
        running = device.processes()
        in_mode = (mode or "").lower() == "true"
        enabled_at = int(enabled.get("sValue") or 0)
        limit = int(max_minutes or 0) or DEFAULT_MAX_MINUTES
        outcome = "healthy"
        if in_mode and running:
            outcome = "task sequence"
        elif in_mode and enabled_at and now > enabled_at + limit * 60:
            device.invoke("root/ccm", "SMS_Client", "SetClientProvisioningMode", "<p:bEnable>false</p:bEnable>")
            outcome = "fixed"
        elif in_mode:
            outcome = "in provisioning mode"
        return outcome, device.calls
    except Exception:  # noqa: BLE001 -- a script's report line for a device it could not read
        return "error", device.calls


def main():
    path, user, password = sys.argv[1:4]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cpu_before = time.process_time()
    started = time.monotonic()
    outcomes = {}
    calls = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for outcome, device_calls in pool.map(lambda r: sweep_one(r, user, password, time.time()), rows):
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            calls += device_calls
    seconds = time.monotonic() - started
    print(json.dumps({"devices": len(rows), "seconds": seconds, "devicesPerSecond": len(rows) / seconds, "calls": calls,
                      "cpuSeconds": time.process_time() - cpu_before, "threads": threads, "outcomes": outcomes}))


if __name__ == "__main__":
    main()
