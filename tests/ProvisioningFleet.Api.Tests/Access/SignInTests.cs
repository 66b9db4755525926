using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Access;

[Collection(PostgresCollection.Name)]
public sealed partial class SignInTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task Sign_in_page_is_anonymous_html_with_a_form_token()
    {
        using var browser = Api.CreateAnonymousClient();
        var response = await browser.GetAsync("/signin");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Matches(FormToken(), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_page_navigation_without_a_session_is_sent_to_sign_in_but_an_api_call_gets_401()
    {
        using var browser = Api.CreateAnonymousClient();
        using var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire-or-any-page");
        page.Headers.Accept.ParseAdd("text/html");
        var redirect = await browser.SendAsync(page);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.StartsWith("/signin", redirect.Headers.Location!.PathAndQuery);

        await (await browser.GetAsync("/api/v1/devices")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_bad_key_does_not_sign_in()
    {
        using var browser = Api.CreateAnonymousClient();
        var response = await SignInAsync(browser, "pfk_wrong-key-000000000000000000000");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("unknown or revoked", await response.Content.ReadAsStringAsync());
        await (await browser.GetAsync("/api/v1/devices")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Signed_in_browser_reads_and_writes_only_with_the_antiforgery_token()
    {
        using var browser = Api.CreateAnonymousClient();
        var signedIn = await SignInAsync(browser, FleetApiFactory.AdminApiKey, returnUrl: "/ui/overview.html");
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/ui/overview.html", signedIn.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/devices")).StatusCode);

        var device = new { hostName = $"cookie-{Guid.NewGuid():N}.example" };
        var forged = await browser.PostAsJsonAsync("/api/v1/devices", device);
        var problem = await forged.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("nti-forgery", problem.GetProperty("title").GetString());

        var me = await browser.GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal("Cookie", me.GetProperty("authentication").GetString());
        using var write = new HttpRequestMessage(HttpMethod.Post, "/api/v1/devices") { Content = JsonContent.Create(device) };
        write.Headers.Add(me.GetProperty("antiforgeryHeader").GetString()!, me.GetProperty("antiforgeryToken").GetString());
        Assert.Equal(HttpStatusCode.Created, (await browser.SendAsync(write)).StatusCode);
    }

    [Fact]
    public async Task A_reader_session_is_forbidden_to_write_even_with_the_token()
    {
        using var browser = Api.CreateAnonymousClient();
        await SignInAsync(browser, await Api.KeyForAsync(ApiKeyRole.Reader));
        var me = await browser.GetFromJsonAsync<JsonElement>("/api/v1/me");
        using var write = new HttpRequestMessage(HttpMethod.Post, "/api/v1/devices") { Content = JsonContent.Create(new { hostName = "reader-write.example" }) };
        write.Headers.Add(me.GetProperty("antiforgeryHeader").GetString()!, me.GetProperty("antiforgeryToken").GetString());
        await (await browser.SendAsync(write)).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Revoking_the_key_ends_its_browser_sessions()
    {
        using var admin = Api.CreateAdminClient();
        var key = await (await admin.PostAsJsonAsync("/api/v1/keys", new { name = "browser-user", role = "Operator" })).Content.ReadFromJsonAsync<JsonElement>();
        using var browser = Api.CreateAnonymousClient();
        await SignInAsync(browser, key.GetProperty("key").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/devices")).StatusCode);

        await admin.DeleteAsync($"/api/v1/keys/{key.GetProperty("id").GetInt64()}");

        await (await browser.GetAsync("/api/v1/devices")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("//evil.example/")]
    [InlineData("https://evil.example/")]
    [InlineData("/\\evil.example")]
    [InlineData("/\t/evil.example")]
    [InlineData("/\n/evil.example")]
    [InlineData("/\r\n/evil.example")]
    [InlineData("/\u007f/evil.example")]
    [InlineData("\t//evil.example")]
    [InlineData("evil.example")]
    public async Task Sign_in_never_redirects_off_site(string returnUrl)
    {
        using var browser = Api.CreateAnonymousClient();
        var response = await SignInAsync(browser, FleetApiFactory.AdminApiKey, returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Sign_out_needs_the_token_and_ends_the_session()
    {
        using var browser = Api.CreateAnonymousClient();
        await SignInAsync(browser, FleetApiFactory.AdminApiKey);
        await (await browser.PostAsync("/signout", null)).AssertProblemAsync(HttpStatusCode.Forbidden);

        var me = await browser.GetFromJsonAsync<JsonElement>("/api/v1/me");
        using var signOut = new HttpRequestMessage(HttpMethod.Post, "/signout");
        signOut.Headers.Add(me.GetProperty("antiforgeryHeader").GetString()!, me.GetProperty("antiforgeryToken").GetString());
        Assert.Equal(HttpStatusCode.Redirect, (await browser.SendAsync(signOut)).StatusCode);
        await (await browser.GetAsync("/api/v1/devices")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string apiKey, string returnUrl = "")
    {
        var page = await browser.GetStringAsync("/signin");
        var token = FormToken().Match(page);
        return await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [token.Groups["name"].Value] = token.Groups["value"].Value,
            ["apiKey"] = apiKey,
            ["returnUrl"] = returnUrl,
        }));
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>__RequestVerificationToken)" value="(?<value>[^"]+)">""")]
    private static partial Regex FormToken();
}
