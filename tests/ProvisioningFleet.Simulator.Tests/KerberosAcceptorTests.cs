using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Text;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing.Kerberos;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>
/// The simulator as a Kerberos acceptor (keytab) behind AllowUnencrypted=false, driven by a caller
/// written here from [MS-WSMV] 2.2.9.1.1 and [MS-KILE] 3.4.5.4.1 with .NET's GSSAPI client, not by the
/// service's WS-Man client: the sealed request in the Windows layout (60-byte header, RRC 28), and the
/// reply checked byte by byte.
/// </summary>
public sealed class KerberosAcceptorTests
{
    private const string Device = "winrm.a.test";
    private const string KerberosProtocol = "application/HTTP-Kerberos-session-encrypted";
    private static readonly string Probe = SimulatorClient.InvokeEnvelope("root/default", "StdRegProv", "GetStringValue",
        @"<p:hDefKey>2147483650</p:hDefKey><p:sSubKeyName>SOFTWARE\Microsoft\CCM\CcmExec</p:sSubKeyName><p:sValueName>ProvisioningMode</p:sValueName>");

    [KerberosFact]
    public async Task A_sealed_Kerberos_request_in_the_Windows_layout_gets_a_sealed_reply_in_it()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });
        using var session = await AuthenticateAsync(http, host, "alice@A.TEST");

        using var response = await SendAsync(http, host, Frame(session, Encoding.UTF8.GetBytes(Probe), rotate: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(KerberosProtocol, response.Content.Headers.ContentType!.ToString());
        var (header, data, originalLength) = Parts(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(60, header.Length);
        Assert.Equal([0x05, 0x04], header[..2]);
        Assert.Equal(0x03, header[2] & 0x03);
        Assert.Equal(28, BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(6)));
        Assert.Equal(originalLength, data.Length);
        var plain = new ArrayBufferWriter<byte>();
        Assert.Equal(NegotiateAuthenticationStatusCode.Completed, session.Unwrap([.. header, .. data], plain, out var encrypted));
        Assert.True(encrypted);
        Assert.Contains("<p:sValue>true</p:sValue>", Encoding.UTF8.GetString(plain.WrittenSpan));
    }

    [KerberosFact]
    public async Task A_token_with_the_trailer_left_at_the_end_is_refused()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });
        using var session = await AuthenticateAsync(http, host, "alice@A.TEST");

        using var response = await SendAsync(http, host, Frame(session, Encoding.UTF8.GetBytes(Probe), rotate: false));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [KerberosFact]
    public async Task A_principal_the_device_does_not_know_is_refused_after_a_valid_ticket()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AuthenticateAsync(http, host, "bob@B.TEST", "HTTP/winrm.b.test"));

        Assert.Contains("401", error.Message);
    }

    private static async Task<SimulatedFleetHost> StartAsync()
    {
        await TestRealm.StartAsync();
        var host = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            AllowUnencrypted = false,
            Users = [new SimulatedUser("alice", "", TestRealm.RealmA)],
            KerberosKeytab = TestRealm.Keytab,
            EnableInspection = false,
        });
        host.Fleet.Add(new SimulatedDevice(Device).EnterProvisioningMode(TimeSpan.FromHours(1)));
        host.Fleet.Add(new SimulatedDevice("winrm.b.test"));
        return host;
    }

    private static async Task<NegotiateAuthentication> AuthenticateAsync(HttpClient http, SimulatedFleetHost host, string principal, string spn = "HTTP/" + Device)
    {
        var session = new NegotiateAuthentication(new NegotiateAuthenticationClientOptions
        {
            Package = "Kerberos",
            Credential = new NetworkCredential(principal, TestRealm.Password),
            TargetName = spn,
            RequiredProtectionLevel = ProtectionLevel.EncryptAndSign,
        });
        var token = session.GetOutgoingBlob(ReadOnlySpan<byte>.Empty, out var status);
        Assert.Equal(NegotiateAuthenticationStatusCode.Completed, status);
        using var request = new HttpRequestMessage(HttpMethod.Post, host.EndpointFor(spn[5..])) { Content = new ByteArrayContent([]) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Kerberos", Convert.ToBase64String(token!));
        using var response = await http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            session.Dispose();
            throw new InvalidOperationException($"The handshake ended with HTTP {(int)response.StatusCode}.");
        }

        return session;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, SimulatedFleetHost host, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, host.EndpointFor(Device)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/encrypted;protocol=\"{KerberosProtocol}\";boundary=\"Encrypted Boundary\"");
        return await http.SendAsync(request);
    }

    /// <summary>
    /// Wrap gives header | confounder | data | trailer (RRC 0); Windows sends header (RRC 28) | trailer |
    /// confounder as the 60-byte header, then the data. Without <paramref name="rotate"/> the token is sent as Wrap made it.
    /// </summary>
    private static byte[] Frame(NegotiateAuthentication session, byte[] message, bool rotate)
    {
        var token = new ArrayBufferWriter<byte>();
        Assert.Equal(NegotiateAuthenticationStatusCode.Completed, session.Wrap(message, token, true, out _));
        var wrapped = token.WrittenSpan.ToArray();
        byte[] header, data;
        if (rotate)
        {
            var trailer = wrapped.Length - 32 - message.Length;
            header = [.. wrapped[..16], .. wrapped[^trailer..], .. wrapped[16..32]];
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), (ushort)trailer);
            data = wrapped[32..^trailer];
        }
        else
        {
            header = wrapped[..60];
            data = wrapped[60..];
        }

        var length = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, header.Length);
        return [.. Encoding.ASCII.GetBytes($"--Encrypted Boundary\r\n\tContent-Type: {KerberosProtocol}\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={message.Length}\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n"),
            .. length, .. header, .. data, .. "--Encrypted Boundary--\r\n"u8];
    }

    private static (byte[] Header, byte[] Data, int OriginalLength) Parts(byte[] reply)
    {
        var text = Encoding.ASCII.GetString(reply);
        var lengthAt = text.IndexOf("Length=", StringComparison.Ordinal) + "Length=".Length;
        var originalLength = int.Parse(text[lengthAt..text.IndexOf('\r', lengthAt)], System.Globalization.CultureInfo.InvariantCulture);
        const string marker = "\tContent-Type: application/octet-stream\r\n";
        var start = text.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        var end = text.LastIndexOf("--Encrypted Boundary--", StringComparison.Ordinal);
        var payload = reply[start..end];
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(payload);
        return (payload[4..(4 + headerLength)], payload[(4 + headerLength)..], originalLength);
    }
}
