using System.Net;
using System.Text;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Reliability;

/// <summary>
/// Requests that used to end in a 500 (issue 16, item 17), sent as real bytes to the built service running as
/// its own process on a private PostgreSQL cluster, which is then stopped under it and started again.
/// </summary>
public sealed class FaultAnswerTests
{
    private static readonly string[] ListEndpoints =
    [
        "/api/v1/keys", "/api/v1/audit", "/api/v1/credentials", "/api/v1/devices", "/api/v1/devices/{device}/history",
        "/api/v1/remediations", "/api/v1/sweeps",
    ];

    [Fact]
    public async Task Paging_past_the_offset_range_NUL_characters_and_a_stopped_database_are_never_a_500()
    {
        await using var service = await FleetServiceProcess.StartAsync(new Dictionary<string, string>());
        using var admin = service.CreateAdminClient();
        admin.Timeout = TimeSpan.FromSeconds(30);
        var created = await admin.PostAsync("/api/v1/devices", JsonBody("""{"hostName":"pc-faults.corp.example"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var device = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        // page=4294969 made OFFSET overflow to a negative number; the last page whose offset fits still answers.
        foreach (var list in ListEndpoints.Select(path => path.Replace("{device}", device.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)))
        {
            await (await admin.GetAsync($"{list}?page=4294969&pageSize=500")).AssertProblemAsync(HttpStatusCode.BadRequest, "page");
            await (await admin.GetAsync($"{list}?page=2147483647")).AssertProblemAsync(HttpStatusCode.BadRequest, "page");
            var last = await admin.GetAsync($"{list}?page=1000000&pageSize=500");
            Assert.True(last.StatusCode == HttpStatusCode.OK, $"{list}: {(int)last.StatusCode} {await last.Content.ReadAsStringAsync()}");
            Assert.Contains("\"items\":[]", await last.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var logBefore = service.Output.Length;

        // NUL in query filters, JSON strings and the anonymous sign-in form: 400 naming the place, nothing stored.
        await (await admin.GetAsync("/api/v1/devices?search=pc%00")).AssertProblemAsync(HttpStatusCode.BadRequest, "search");
        await (await admin.GetAsync("/api/v1/devices?tag=a%00b")).AssertProblemAsync(HttpStatusCode.BadRequest, "tag");
        await (await admin.GetAsync("/api/v1/audit?actor=%00")).AssertProblemAsync(HttpStatusCode.BadRequest, "actor");
        await (await admin.PostAsync("/api/v1/credentials", JsonBody("""{"name":"lab\u0000","userName":"u","password":"p4ssword-long"}""")))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "$.name");
        await (await admin.PostAsync("/api/v1/credentials", JsonBody("""{"name":"lab","userName":"u","password":"pa\u0000ss"}""")))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "$.password");
        await (await admin.PostAsync("/api/v1/keys", JsonBody("""{"name":"k\u0000","role":"Reader"}"""))).AssertProblemAsync(HttpStatusCode.BadRequest, "$.name");
        await (await admin.PostAsync("/api/v1/sweeps", JsonBody("""{"tag":"\u0000"}"""))).AssertProblemAsync(HttpStatusCode.BadRequest, "$.tag");
        await (await admin.PostAsync($"/api/v1/devices/{device}/remediate", JsonBody("""{"justification":"fix\u0000it"}""")))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "$.justification");
        await (await admin.PostAsync("/api/v1/devices/import", JsonBody("""[{"hostName":"pc-nul.corp.example","tags":["a\u0000"]}]""")))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        using (var anonymous = new HttpClient { BaseAddress = service.BaseAddress })
        {
            var signIn = await anonymous.PostAsync("/signin", new StringContent("apiKey=pfk_%00&returnUrl=%2F", Encoding.ASCII, "application/x-www-form-urlencoded"));
            await signIn.AssertProblemAsync(HttpStatusCode.BadRequest, "form");
        }

        Assert.Contains("\"total\":0", await (await admin.GetAsync("/api/v1/credentials")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\"total\":1", await (await admin.GetAsync("/api/v1/devices")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\"total\":0", await (await admin.GetAsync("/api/v1/sweeps")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("\"LogLevel\":\"Error\"", service.Output[logBefore..], StringComparison.Ordinal);

        // The database stops while requests are in flight: each answers 200 or 503, never 500.
        var inFlight = Enumerable.Range(0, 40).Select(i => admin.GetAsync(i % 2 == 0 ? "/api/v1/devices?search=pc" : "/api/v1/fleet/summary")).ToList();
        await service.Cluster.StopAsync(CancellationToken.None);
        foreach (var answer in await Task.WhenAll(inFlight))
        {
            Assert.True(answer.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        }

        foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
        {
                (HttpMethod.Get, "/api/v1/devices", null),
                (HttpMethod.Get, "/api/v1/fleet/summary", null),
                (HttpMethod.Get, "/api/v1/me", null),
                (HttpMethod.Post, "/api/v1/devices", """{"hostName":"pc-while-down.corp.example"}"""),
                (HttpMethod.Post, "/api/v1/sweeps", "{}"),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonBody(body) };
            var answer = await admin.SendAsync(request);
            await answer.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Equal(TimeSpan.FromSeconds(5), answer.Headers.RetryAfter?.Delta);
        }

        using (var probe = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(15) })
        {
            var ready = await probe.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.NotNull(ready.Headers.RetryAfter);
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/health/live")).StatusCode);

            // Back as soon as the database is, with nothing written while it was down.
            await service.Cluster.StartAgainAsync(CancellationToken.None);
            await Eventually.MatchAsync(async () => (await probe.GetAsync("/health/ready")).StatusCode, status => status == HttpStatusCode.OK, "readiness after the database restart");
        }

        var devices = await Eventually.MatchAsync(
            async () => await admin.GetAsync("/api/v1/devices"), answer => answer.StatusCode == HttpStatusCode.OK, "the device list after the database restart");
        Assert.Contains("\"total\":1", await devices.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");
}
