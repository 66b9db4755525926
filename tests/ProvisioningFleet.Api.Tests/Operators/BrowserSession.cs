using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Operators;

/// <summary>
/// What a browser does, over HTTP: signs in on /signin with an API key through the form (with its
/// anti-forgery field), then keeps the cookie. <see cref="AntiforgeryToken"/> is what the pages send
/// with writes, read from GET /api/v1/me as the overview page does.
/// </summary>
internal sealed partial class BrowserSession : IDisposable
{
    private BrowserSession(HttpClient client, string antiforgeryHeader, string antiforgeryToken)
    {
        Client = client;
        AntiforgeryHeader = antiforgeryHeader;
        AntiforgeryToken = antiforgeryToken;
    }

    public HttpClient Client { get; }
    public string AntiforgeryHeader { get; }
    public string AntiforgeryToken { get; }

    public static async Task<BrowserSession> SignInAsync(FleetApiFactory api, string apiKey)
    {
        var client = api.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = FleetApiFactory.SecureBaseAddress });
        var form = await client.GetStringAsync("/signin");
        var field = FormToken().Match(form);
        Assert.True(field.Success, "the sign-in page has no anti-forgery field");

        var signIn = await client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["apiKey"] = apiKey,
            [field.Groups["name"].Value] = WebUtility.HtmlDecode(field.Groups["value"].Value),
            ["returnUrl"] = "/hangfire",
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);

        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/me", Json.Options);
        return new BrowserSession(client, me.GetProperty("antiforgeryHeader").GetString()!, me.GetProperty("antiforgeryToken").GetString()!);
    }

    /// <summary>A form POST as the Hangfire dashboard's own script sends it, with or without the token header.</summary>
    public Task<HttpResponseMessage> PostDashboardCommandAsync(string path, IEnumerable<KeyValuePair<string, string>> form, bool withToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (withToken)
        {
            request.Headers.Add(AntiforgeryHeader, AntiforgeryToken);
        }
        return Client.SendAsync(request);
    }

    public void Dispose() => Client.Dispose();

    [GeneratedRegex("""<input type="hidden" name="(?<name>__RequestVerificationToken)" value="(?<value>[^"]+)">""")]
    private static partial Regex FormToken();
}
