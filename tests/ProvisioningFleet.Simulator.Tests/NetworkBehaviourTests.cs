using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml;
using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>How misbehaving devices look from the wire.</summary>
public sealed class NetworkBehaviourTests(SimulatorFixture fixture) : IClassFixture<SimulatorFixture>
{
    private static readonly string Probe = SimulatorClient.InvokeEnvelope("root/default", "StdRegProv", "GetStringValue",
        "<p:hDefKey>2147483650</p:hDefKey><p:sSubKeyName>SOFTWARE\\Microsoft\\CCM\\CcmExec</p:sSubKeyName><p:sValueName>ProvisioningMode</p:sValueName>");

    private HttpRequestMessage Request(string host, string password = "P@ssw0rd!")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, fixture.Host.EndpointFor(host))
        {
            Content = new StringContent(Probe, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/soap+xml;charset=UTF-8");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + password)));
        return request;
    }

    private void Add(string host, DeviceBehavior behavior) => fixture.Host.Fleet.Add(new SimulatedDevice(host) { Behavior = behavior });

    [Fact]
    public async Task A_refusing_device_drops_the_connection_without_an_answer()
    {
        Add("refuse.corp.example", DeviceBehavior.RefuseConnections);
        using var http = new HttpClient();

        await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(Request("refuse.corp.example")));
    }

    [Fact]
    public async Task A_silent_device_never_answers_so_the_client_times_out()
    {
        Add("silent.corp.example", DeviceBehavior.Silent);
        using var http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(400) };

        await Assert.ThrowsAsync<TaskCanceledException>(() => http.SendAsync(Request("silent.corp.example")));
    }

    [Fact]
    public async Task A_stalling_device_sends_headers_and_part_of_a_reply_then_nothing()
    {
        Add("stall.corp.example", DeviceBehavior.Stall);
        using var http = new HttpClient();

        using var response = await http.SendAsync(Request("stall.corp.example"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => response.Content.ReadAsStringAsync(timeout.Token));
    }

    [Fact]
    public async Task An_access_denied_device_refuses_even_the_right_password()
    {
        Add("denied.corp.example", DeviceBehavior.AccessDenied);

        using var response = await fixture.Http.SendAsync(Request("denied.corp.example"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Negotiate");
    }

    [Fact]
    public async Task A_malformed_device_answers_200_with_something_that_is_not_an_envelope()
    {
        Add("garbage.corp.example", DeviceBehavior.Malformed);

        using var response = await fixture.Http.SendAsync(Request("garbage.corp.example"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Throws<XmlException>(() => System.Xml.Linq.XDocument.Parse(body));
    }

    [Fact]
    public async Task Latency_delays_every_answer()
    {
        fixture.Host.Fleet.Add(new SimulatedDevice("slow.corp.example") { Latency = TimeSpan.FromMilliseconds(300) });

        var clock = Stopwatch.StartNew();
        using var response = await fixture.Http.SendAsync(Request("slow.corp.example"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290), $"Answered after {clock.Elapsed}.");
    }

    [Fact]
    public async Task A_wrong_password_is_a_401_offering_Negotiate_Kerberos_and_Basic()
    {
        fixture.Host.Fleet.Add(new SimulatedDevice("pw.corp.example"));

        using var response = await fixture.Http.SendAsync(Request("pw.corp.example", password: "wrong"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(["Negotiate", "Kerberos", "Basic"], response.Headers.WwwAuthenticate.Select(h => h.Scheme));
    }

    [Fact]
    public async Task An_unknown_host_is_404()
    {
        using var response = await fixture.Http.SendAsync(Request("nobody.corp.example"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
