using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using ProvisioningFleet.LocalServices;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Tests.Transport;

/// <summary>Replies a broken or hostile server might send: each must end as a bounded CimException in bounded time.</summary>
public class HostileReplyTests
{
    private const string Resource = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/StdRegProv";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("garbage \0\x01\x02 not xml")]
    [InlineData("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><p:GetStringValue_OUTPUT xmlns:p=\"urn:x\"><p:sValue>tr")]
    [InlineData("<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\"><!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\"><!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\"><!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\"><!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\"><!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\"><!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><p:GetStringValue_OUTPUT xmlns:p=\"urn:x\"><p:sValue>&lol9;</p:sValue></p:GetStringValue_OUTPUT></s:Body></s:Envelope>")]
    [InlineData("<!DOCTYPE e [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><p:GetStringValue_OUTPUT xmlns:p=\"urn:x\"><p:sValue>&xxe;</p:sValue></p:GetStringValue_OUTPUT></s:Body></s:Envelope>")]
    [InlineData("<html><head><title>502 Bad Gateway</title></head><body>proxy</body></html>")]
    public async Task Malformed_or_hostile_bodies_are_protocol_errors(string reply)
    {
        await using var server = await ScriptedServer.ReplyingAsync(Encoding.UTF8.GetBytes(reply));

        var error = await FailsWithinBound(server.BasicClient());

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
        Assert.DoesNotContain("root:", error.Message);
    }

    [Fact]
    public async Task A_declared_huge_body_is_refused_before_it_is_read()
    {
        await using var server = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentLength = 200L * 1024 * 1024;
            context.Response.ContentType = "application/soap+xml";
            await context.Response.Body.WriteAsync(new byte[64 * 1024], context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });

        var error = await FailsWithinBound(server.BasicClient(maxReplyBytes: 1024 * 1024));

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
        Assert.Contains("exceeds", error.Message);
    }

    [Fact]
    public async Task An_endless_chunked_body_stops_at_the_cap()
    {
        var sent = 0L;
        await using var server = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/soap+xml";
            var chunk = Encoding.ASCII.GetBytes(new string('<', 64 * 1024));
            while (!context.RequestAborted.IsCancellationRequested)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                Interlocked.Add(ref sent, chunk.Length);
            }
        });

        var error = await FailsWithinBound(server.BasicClient(maxReplyBytes: 1024 * 1024));

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
        Assert.Contains("exceeds", error.Message);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out()
    {
        await using var server = await ScriptedServer.StartAsync(context => Task.Delay(Timeout.Infinite, context.RequestAborted));
        var watch = Stopwatch.StartNew();

        var error = await FailsWithinBound(server.BasicClient(TimeSpan.FromSeconds(1)));

        Assert.Equal(CimErrorCategory.Timeout, error.Category);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.4), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_reply_that_stalls_mid_body_times_out()
    {
        await using var server = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/soap+xml";
            context.Response.ContentLength = 10_000;
            await context.Response.Body.WriteAsync("<s:Envelope "u8.ToArray(), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });

        var error = await FailsWithinBound(server.BasicClient(TimeSpan.FromSeconds(1)));

        Assert.Equal(CimErrorCategory.Timeout, error.Category);
    }

    [Fact]
    public async Task A_body_shorter_than_its_declared_length_is_a_network_error()
    {
        await using var server = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/soap+xml";
            context.Response.ContentLength = 10_000;
            await context.Response.Body.WriteAsync("<s:Envelope "u8.ToArray(), context.RequestAborted);
        });

        var error = await FailsWithinBound(server.BasicClient(TimeSpan.FromSeconds(5)));

        Assert.Equal(CimErrorCategory.Network, error.Category);
    }

    [Fact]
    public async Task The_callers_deadline_cancels_the_call()
    {
        await using var server = await ScriptedServer.StartAsync(context => Task.Delay(Timeout.Infinite, context.RequestAborted));
        await using var client = server.BasicClient(TimeSpan.FromSeconds(60));
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.InvokeAsync(Resource, "GetStringValue", [], null, deadline.Token));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Http_401_is_AccessDenied()
    {
        await using var server = await ScriptedServer.StartAsync(context =>
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"WSMAN\"";
            return Task.CompletedTask;
        });

        var error = await FailsWithinBound(server.BasicClient());

        Assert.Equal(CimErrorCategory.AccessDenied, error.Category);
        Assert.Equal(401L, error.Code);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public async Task A_non_WS_Management_status_is_a_protocol_error_with_the_status()
    {
        await using var server = await ScriptedServer.StartAsync(context =>
        {
            context.Response.StatusCode = 404;
            return context.Response.WriteAsync("<html>not found</html>");
        });

        var error = await FailsWithinBound(server.BasicClient());

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
        Assert.Equal(404L, error.Code);
    }

    [Fact]
    public async Task A_server_that_is_not_HTTP_is_a_protocol_error()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serve = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await socket.SendAsync("SSH-2.0-OpenSSH_9.2\r\nthis is no http\r\n\r\n"u8.ToArray());
            await Task.Delay(2000);
        });

        var error = await FailsWithinBound(BasicClientFor(new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/wsman")));

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
    }

    [Fact]
    public async Task A_closed_port_is_a_network_error()
    {
        var port = FreePort.OnLoopback();

        var error = await FailsWithinBound(BasicClientFor(new Uri($"http://127.0.0.1:{port}/wsman")));

        Assert.Equal(CimErrorCategory.Network, error.Category);
    }

    [Fact]
    public async Task A_connection_reset_is_a_network_error()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serve = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            socket.LingerState = new LingerOption(true, 0);
            await Task.Delay(100);
            socket.Close();
        });

        var error = await FailsWithinBound(BasicClientFor(new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/wsman")));

        Assert.Equal(CimErrorCategory.Network, error.Category);
    }

    [Fact]
    public async Task A_connection_closed_without_an_answer_is_a_network_error()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serve = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var request = new byte[4096];
            await socket.ReceiveAsync(request);
            socket.Shutdown(SocketShutdown.Both);
        });

        var error = await FailsWithinBound(BasicClientFor(new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/wsman")));

        Assert.Equal(CimErrorCategory.Network, error.Category);
    }

    [Fact]
    public async Task Https_to_a_server_that_does_not_speak_TLS_is_a_TLS_error()
    {
        await using var server = await ScriptedServer.ReplyingAsync(Fixture.Bytes("invoke-getstringvalue.xml"));
        var https = new UriBuilder(server.Endpoint) { Scheme = "https" }.Uri;

        var error = await FailsWithinBound(BasicClientFor(https));

        Assert.Equal(CimErrorCategory.Tls, error.Category);
    }

    [Fact]
    public async Task Basic_over_plain_HTTP_without_permission_is_refused_before_any_contact()
    {
        await using var server = await ScriptedServer.ReplyingAsync(Fixture.Bytes("invoke-getstringvalue.xml"));

        var error = Assert.Throws<CimException>(() => new WsManClient(new WsManClientOptions
        {
            Endpoint = server.Endpoint,
            Authentication = WsManAuthentication.Basic,
            Credential = new WsManCredential("fleet", "secret"),
        }));

        Assert.Equal(CimErrorCategory.Configuration, error.Category);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task A_query_that_never_ends_is_cut_off_at_the_item_cap()
    {
        var pull = Encoding.UTF8.GetBytes("""
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>
            <n:PullResponse xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><n:EnumerationContext>uuid:again</n:EnumerationContext>
            <n:Items><p:X xmlns:p="urn:x"><p:a>1</p:a></p:X><p:X xmlns:p="urn:x"><p:a>2</p:a></p:X></n:Items></n:PullResponse></s:Body></s:Envelope>
            """);
        await using var server = await ScriptedServer.ReplyingAsync(pull);
        await using var client = new WsManClient(new WsManClientOptions
        {
            Endpoint = server.Endpoint,
            Authentication = WsManAuthentication.Basic,
            Credential = new WsManCredential("fleet", "secret"),
            AllowUnencrypted = true,
            MaxQueryItems = 10,
        });

        var error = await Assert.ThrowsAsync<CimException>(() => client.QueryAsync("urn:x/*", "SELECT * FROM X", CancellationToken.None));

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
        Assert.InRange(server.Requests.Count, 5, 8);
    }

    [Fact]
    public async Task A_device_streaming_large_pages_is_cut_off_at_the_query_byte_bound()
    {
        // Every reply is a page just under 1 MiB with a context to come back for more, whatever MaxElements asked.
        var filler = new string('x', 1024 * 1024 - 1024);
        var page = Encoding.UTF8.GetBytes($"""
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>
            <n:PullResponse xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><n:EnumerationContext>uuid:endless</n:EnumerationContext>
            <n:Items><p:X xmlns:p="urn:x"><p:a>{filler}</p:a></p:X></n:Items></n:PullResponse></s:Body></s:Envelope>
            """);
        await using var server = await ScriptedServer.ReplyingAsync(page);
        await using var client = new WsManClient(new WsManClientOptions
        {
            Endpoint = server.Endpoint,
            Authentication = WsManAuthentication.Basic,
            Credential = new WsManCredential("fleet", "secret"),
            AllowUnencrypted = true,
            MaxReplyBytes = 2 * 1024 * 1024,
            MaxQueryBytes = 4 * 1024 * 1024,
        });
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<CimException>(() => client.QueryAsync("urn:x/*", "SELECT * FROM X", bound.Token));

        Assert.Equal(CimErrorCategory.Protocol, error.Category);
        Assert.Contains($"passed {4 * 1024 * 1024} bytes", error.Message);
        // The Enumerate and three Pulls fit under 4 MiB, the fifth reply passes it, then the enumeration is released.
        Assert.Equal(6, server.Requests.Count);
        Assert.Contains("Release", Encoding.UTF8.GetString(server.Requests.Last().Body));
    }

    [Fact]
    public async Task A_query_that_can_use_one_item_takes_one_and_releases_the_rest()
    {
        var page = Encoding.UTF8.GetBytes("""
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>
            <n:EnumerateResponse xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
            <n:EnumerationContext>uuid:endless</n:EnumerationContext>
            <w:Items><p:X xmlns:p="urn:x"><p:a>1</p:a></p:X><p:X xmlns:p="urn:x"><p:a>2</p:a></p:X><p:X xmlns:p="urn:x"><p:a>3</p:a></p:X></w:Items>
            </n:EnumerateResponse></s:Body></s:Envelope>
            """);
        await using var server = await ScriptedServer.ReplyingAsync(page);
        await using var client = server.BasicClient();

        var items = await client.QueryAsync("urn:x/*", "SELECT * FROM X", CancellationToken.None, maxItems: 1);

        Assert.Equal("1", Assert.Single(items)["a"].AsString());
        Assert.Equal(2, server.Requests.Count);
        Assert.Contains("Release", Encoding.UTF8.GetString(server.Requests.Last().Body));
    }

    private static WsManClient BasicClientFor(Uri endpoint) => new(new WsManClientOptions
    {
        Endpoint = endpoint,
        Authentication = WsManAuthentication.Basic,
        Credential = new WsManCredential("fleet", "secret"),
        AllowUnencrypted = true,
        OperationTimeout = TimeSpan.FromSeconds(2),
        ReplyGrace = TimeSpan.FromMilliseconds(500),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    });

    private static async Task<CimException> FailsWithinBound(WsManClient client)
    {
        await using (client)
        {
            var watch = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<CimException>(() =>
                client.InvokeAsync(Resource, "GetStringValue", [CimParameter.Of("sValueName", "ProvisioningMode")], null, CancellationToken.None));
            Assert.True(watch.Elapsed < Bound, $"took {watch.Elapsed}");
            return error;
        }
    }
}
