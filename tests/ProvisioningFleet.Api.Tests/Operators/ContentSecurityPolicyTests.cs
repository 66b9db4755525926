using System.Net;
using System.Text.RegularExpressions;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Operators;

/// <summary>Every page people open carries a Content-Security-Policy that allows no inline script.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class ContentSecurityPolicyTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task The_sign_in_page_allows_no_script_and_only_its_own_style_by_a_fresh_nonce()
    {
        using var browser = Api.CreateAnonymousClient();
        var first = await browser.GetAsync("/signin");
        var policy = Policy(first);
        Assert.Contains("script-src 'none'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Contains("form-action 'self'", policy);
        var nonce = Nonce().Match(policy).Groups["nonce"].Value;
        Assert.NotEmpty(nonce);
        Assert.Contains($"<style nonce=\"{nonce}\">", await first.Content.ReadAsStringAsync());
        Assert.DoesNotContain("unsafe-inline", policy);

        var second = Nonce().Match(Policy(await browser.GetAsync("/signin"))).Groups["nonce"].Value;
        Assert.NotEqual(nonce, second);
    }

    [Theory]
    [InlineData("/ui/overview.html")]
    [InlineData("/ui/device.html")]
    [InlineData("/ui/js/overview.js")]
    public async Task Operators_pages_allow_scripts_and_styles_from_the_service_only(string path)
    {
        using var admin = Api.CreateAdminClient();
        var response = await admin.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var policy = Policy(response);
        Assert.Contains("script-src 'self';", policy);
        Assert.EndsWith("style-src 'self'", policy);
        Assert.DoesNotContain("unsafe", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task The_dashboard_allows_inline_styles_but_never_inline_scripts()
    {
        using var admin = Api.CreateAdminClient();
        var response = await admin.GetAsync("/hangfire/recurring");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var policy = Policy(response);
        Assert.Contains("script-src 'self';", policy);
        Assert.Contains("style-src 'self' 'unsafe-inline'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        // What the policy relies on: the dashboard's own markup has no inline script.
        Assert.DoesNotMatch(InlineScript(), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Problems_and_redirects_carry_the_policy_too()
    {
        using var anonymous = Api.CreateAnonymousClient();
        var refused = await anonymous.GetAsync("/api/v1/devices");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("script-src 'self'", Policy(refused));
    }

    private static string Policy(HttpResponseMessage response) =>
        Assert.Single(response.Headers.GetValues("Content-Security-Policy"));

    [GeneratedRegex("style-src 'nonce-(?<nonce>[A-Za-z0-9+/=]+)'")]
    private static partial Regex Nonce();

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();
}
