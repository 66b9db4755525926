using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Hosting;

/// <summary>
/// Behind the usual TLS-terminating proxy: the cookies are Secure whatever scheme the request arrived with,
/// HSTS is sent on HTTPS answers, and X-Forwarded-* is believed only from a configured proxy. Over a real
/// socket, so the client address is the one Kestrel sees.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class TransportSecurityTests(PostgresFixture postgres)
{
    [Fact]
    public async Task The_session_cookie_is_secure_even_over_plain_http()
    {
        await using var api = new FleetApiFactory(await postgres.CreateDatabaseAsync());
        using var browser = api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false, BaseAddress = new Uri("http://localhost") });

        var page = await browser.GetAsync("/signin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var antiforgeryCookie = Assert.Single(page.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ProvisioningFleet.Antiforgery=", StringComparison.Ordinal));

        var token = FormToken().Match(await page.Content.ReadAsStringAsync());
        using var form = new HttpRequestMessage(HttpMethod.Post, "/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                [token.Groups["name"].Value] = token.Groups["value"].Value,
                ["apiKey"] = FleetApiFactory.AdminApiKey,
            }),
        };
        form.Headers.Add("Cookie", antiforgeryCookie.Split(';')[0]);
        var signedIn = await browser.SendAsync(form);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var sessionCookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ProvisioningFleet.Auth=", StringComparison.Ordinal));
        Assert.Contains("; secure", sessionCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Https_said_by_a_proxy_on_loopback_gets_hsts_and_plain_http_does_not()
    {
        await using var api = new FleetApiFactory(await postgres.CreateDatabaseAsync());
        using var client = StartOnSocket(api);

        var forwarded = await client.SendAsync(HealthRequest(forwardedProto: "https"));
        Assert.Equal(HttpStatusCode.OK, forwarded.StatusCode);
        Assert.Equal("max-age=31536000", Assert.Single(forwarded.Headers.GetValues("Strict-Transport-Security")));

        var plain = await client.SendAsync(HealthRequest(forwardedProto: null));
        Assert.False(plain.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task A_client_that_is_not_a_configured_proxy_cannot_claim_https()
    {
        await using var api = new FleetApiFactory(await postgres.CreateDatabaseAsync());
        api.Settings["Fleet:Proxy:KnownProxies:0"] = "10.20.30.40";
        api.Settings["Fleet:Proxy:KnownNetworks:0"] = "192.168.0.0/16";
        using var client = StartOnSocket(api);

        var response = await client.SendAsync(HealthRequest(forwardedProto: "https"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task A_proxy_network_that_does_not_parse_stops_start_up()
    {
        await using var api = new FleetApiFactory(await postgres.CreateDatabaseAsync());
        api.Settings["Fleet:Proxy:KnownNetworks:0"] = "10.0.0.0/33";
        var failure = Assert.ThrowsAny<Exception>(() => api.CreateClient());
        Assert.Contains("Fleet:Proxy:KnownNetworks: '10.0.0.0/33'", failure.ToString());
    }

    private static HttpClient StartOnSocket(FleetApiFactory api)
    {
        api.UseKestrel(0);
        api.StartServer();
        var address = api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HttpClient { BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)) };
    }

    // HSTS is never sent for localhost, so the request names the host a person would use.
    private static HttpRequestMessage HealthRequest(string? forwardedProto)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.Host = "fleet.corp.example";
        if (forwardedProto is not null)
        {
            request.Headers.Add("X-Forwarded-Proto", forwardedProto);
            request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        }
        return request;
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>__RequestVerificationToken)" value="(?<value>[^"]+)">""")]
    private static partial Regex FormToken();
}
