"""An independent WinRM-shaped Kerberos acceptor on Debian's python3-gssapi, for testing our client.

It accepts Kerberos (raw, "Authorization: Kerberos") and SPNEGO ("Negotiate") on a kept-alive
HTTP/1.1 connection, unseals every message with gss_unwrap_iov (HEADER, DATA), as pyspnego's
unwrap_winrm does, and seals its replies with gss_wrap_iov (HEADER, DATA, PADDING), as Windows does.
It checks the layout strictly ([MS-WSMV] 2.2.9.1.1, [MS-KILE] 3.4.5.4.1) and answers from
WS-Management fixture files chosen by the request's action.

Usage: kerberos_winrm_peer.py FIXTURES_DIR [--drop-after N] [--clear-faults] [--tls CERT_PEM KEY_PEM]
With --tls it serves HTTPS, where the body is plain SOAP, and requires the tls-server-end-point channel
binding (RFC 5929) of its certificate in every handshake, as WinRM with CbtHardeningLevel=Strict.
Prints {"port": N} on its first line; exits when its standard input closes.
GET /facts returns what it saw (one entry per sealed request), for the test to assert on.
"""
import base64
import hashlib
import ssl
import json
import os
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gssapi
from gssapi.raw import IOV, ChannelBindings, IOVBufferType, ext_dce

BOUNDARY = b"--Encrypted Boundary"
PROTOCOLS = {
    "kerberos": "application/HTTP-Kerberos-session-encrypted",
    "negotiate": "application/HTTP-SPNEGO-session-encrypted",
}

FIXTURES = sys.argv[1]
DROP_AFTER = int(sys.argv[sys.argv.index("--drop-after") + 1]) if "--drop-after" in sys.argv else 0
CLEAR_FAULTS = "--clear-faults" in sys.argv
FACTS = []
FACTS_LOCK = threading.Lock()
DROPPED = [False]
TLS = sys.argv[sys.argv.index("--tls") + 1:sys.argv.index("--tls") + 3] if "--tls" in sys.argv else None
BINDINGS = None
if TLS:
    with open(TLS[0]) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    BINDINGS = ChannelBindings(application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest())


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def answer(soap):
    """The reply for a request: (HTTP status, SOAP bytes)."""
    text = soap.decode("utf-8")
    if "root/nothere" in text:
        return 500, fixture("fault-invalid-namespace.xml")
    if "/GetStringValue<" in text or "GetStringValue</" in text:
        return 200, fixture("invoke-getstringvalue.xml")
    if "enumeration/Enumerate<" in text:
        return 200, fixture("enumerate-win32_process.xml")
    if "enumeration/Pull<" in text:
        return 200, fixture("pull-win32_process.xml")
    return 500, fixture("fault-provider-generic.xml")


class Refused(Exception):
    pass


def unseal(context, body, content_type, scheme):
    """Checks the framing and the token layout, then gss_unwrap_iov. Raises Refused on any deviation."""
    if PROTOCOLS[scheme] not in content_type:
        raise Refused(f"content type {content_type!r} does not name {PROTOCOLS[scheme]}")
    parts = body.split(BOUNDARY)
    # b"", headers, payload, b"--\r\n"
    if len(parts) != 4 or parts[0] != b"" or parts[3] not in (b"--\r\n", b"--"):
        raise Refused("not two parts between Encrypted Boundary lines")
    headers = parts[1].decode("ascii")
    if f"\tContent-Type: {PROTOCOLS[scheme]}\r\n" not in headers:
        raise Refused("first part has the wrong Content-Type")
    original = headers.split("Length=")[1].split("\r\n")[0]
    original_length = int(original)
    prefix = b"\r\n\tContent-Type: application/octet-stream\r\n"
    if not parts[2].startswith(prefix):
        raise Refused("second part is not application/octet-stream")
    payload = parts[2][len(prefix):]
    header_length = struct.unpack("<I", payload[:4])[0]
    header = payload[4:4 + header_length]
    data = payload[4 + header_length:]
    tok_id, flags, filler, ec, rrc = header[0:2], header[2], header[3], struct.unpack(">H", header[4:6])[0], struct.unpack(">H", header[6:8])[0]
    fact = {"headerLength": header_length, "tokId": tok_id.hex(), "flags": flags, "ec": ec, "rrc": rrc,
            "dataLength": len(data), "originalLength": original_length, "scheme": scheme}
    if header_length != 60 or tok_id != b"\x05\x04" or filler != 0xFF or rrc != 28 or ec != 0:
        raise Refused(f"not the AES gss_wrap_iov header Windows expects: {fact}")
    if flags & 0x01 or not flags & 0x02:
        raise Refused(f"flags {flags:#x}: not sealed, or claims to come from the acceptor")
    if len(data) != original_length:
        raise Refused(f"data is {len(data)} bytes, OriginalContent says {original_length}")
    iov = IOV((IOVBufferType.header, False, header), data, (IOVBufferType.data, False, b""), std_layout=False)
    ext_dce.unwrap_iov(context, iov)
    plain = iov[1].value
    if len(plain) != original_length:
        raise Refused("unsealed length differs from OriginalContent")
    with FACTS_LOCK:
        FACTS.append(fact)
    return plain


def seal(context, soap, scheme):
    iov = IOV(IOVBufferType.header, soap, IOVBufferType.padding, std_layout=False)
    ext_dce.wrap_iov(context, iov, confidential=True)
    header, data, padding = iov[0].value, iov[1].value, iov[2].value or b""
    return (BOUNDARY + b"\r\n\tContent-Type: " + PROTOCOLS[scheme].encode() + b"\r\n"
            + f"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={len(soap)}\r\n".encode()
            + BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<I", len(header)) + header + data + padding + BOUNDARY + b"--\r\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.context = None
        self.scheme = None
        self.sealed_count = 0

    def log_message(self, format, *args):
        pass

    def send(self, status, body=b"", content_type=None, www_authenticate=None):
        self.send_response(status)
        if www_authenticate:
            self.send_header("WWW-Authenticate", www_authenticate)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with FACTS_LOCK:
            self.send(200, json.dumps(FACTS).encode(), "application/json")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        authorization = self.headers.get("Authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            scheme = scheme.lower()
            if scheme not in PROTOCOLS:
                return self.send(401, www_authenticate="Kerberos")
            context = gssapi.SecurityContext(usage="accept", channel_bindings=BINDINGS)
            try:
                out = context.step(base64.b64decode(token))
            except gssapi.exceptions.GSSError as e:
                return self.send(401, str(e).encode(), "text/plain", "Kerberos")
            if not context.complete:
                return self.send(401, www_authenticate=f"{scheme.capitalize()} {base64.b64encode(out).decode()}")
            self.context, self.scheme, self.sealed_count = context, scheme, 0
            mutual = f"{scheme.capitalize()} {base64.b64encode(out).decode()}" if out else None
            if not body:
                return self.send(200, www_authenticate=mutual)
        if self.context is None:
            return self.send(401, www_authenticate="Kerberos")
        if TLS:
            if not self.headers.get("Content-Type", "").startswith("application/soap+xml"):
                return self.send(415, b"plain SOAP inside TLS", "text/plain")
            status, reply = answer(body)
            return self.send(status, reply, "application/soap+xml;charset=UTF-8")
        if not self.headers.get("Content-Type", "").startswith("multipart/encrypted"):
            return self.send(400, b"AllowUnencrypted=false", "text/plain")
        try:
            soap = unseal(self.context, body, self.headers["Content-Type"], self.scheme)
        except (Refused, gssapi.exceptions.GSSError, ValueError, IndexError, struct.error) as e:
            return self.send(400, f"refused: {e}".encode(), "text/plain")
        self.sealed_count += 1
        if DROP_AFTER and self.sealed_count > DROP_AFTER and not DROPPED[0]:
            # As a server that lost the security context (a restart): 401, and the context is gone.
            DROPPED[0] = True
            self.context = None
            return self.send(401, www_authenticate="Kerberos")
        status, reply = answer(soap)
        if CLEAR_FAULTS:
            # A forger on the path: a plausible fault, in clear, instead of the sealed answer.
            return self.send(500, fixture("fault-invalid-namespace.xml"), "application/soap+xml;charset=UTF-8")
        content_type = f'multipart/encrypted;protocol="{PROTOCOLS[self.scheme]}";boundary="Encrypted Boundary"'
        self.send(status, seal(self.context, reply, self.scheme), content_type)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if TLS:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(TLS[0], TLS[1])
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
