using System.Net;
using System.Net.Http.Headers;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Operators;

/// <summary>The Hangfire dashboard at /hangfire: who gets in, who may act, and that acting needs the anti-forgery token.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DashboardAccessTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    private static readonly KeyValuePair<string, string>[] TriggerSweep = [new("jobs[]", SweepSchedule.SweepJobId)];

    // The recurring jobs are registered by the host; the job server itself is not needed to see them.
    protected override void ConfigureSettings(IDictionary<string, string?> settings) => settings["Fleet:Engine:RunJobs"] = "false";

    [Fact]
    public async Task An_anonymous_browser_is_sent_to_sign_in_and_a_script_gets_401()
    {
        using var anonymous = Api.CreateAnonymousClient();
        var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire/recurring");
        page.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        var redirected = await anonymous.SendAsync(page);
        Assert.Equal(HttpStatusCode.Redirect, redirected.StatusCode);
        Assert.Equal("/signin", redirected.Headers.Location!.AbsolutePath);
        Assert.Contains("ReturnUrl=%2Fhangfire%2Frecurring", redirected.Headers.Location.Query, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/hangfire/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/hangfire/recurring/trigger", new FormUrlEncodedContent(TriggerSweep))).StatusCode);
    }

    [Fact]
    public async Task An_operator_sees_the_recurring_sweep_and_may_trigger_it_with_the_anti_forgery_token_only()
    {
        using var session = await BrowserSession.SignInAsync(Api, await Api.KeyForAsync(ApiKeyRole.Operator));

        var recurring = await session.Client.GetStringAsync("/hangfire/recurring");
        Assert.Contains(SweepSchedule.SweepJobId, recurring);
        Assert.Contains("recurring/trigger", recurring);

        var forged = await session.PostDashboardCommandAsync("/hangfire/recurring/trigger", TriggerSweep, withToken: false);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);

        var triggered = await session.PostDashboardCommandAsync("/hangfire/recurring/trigger", TriggerSweep, withToken: true);
        Assert.Equal(HttpStatusCode.NoContent, triggered.StatusCode);
    }

    [Fact]
    public async Task A_reader_sees_the_dashboard_read_only_and_its_commands_are_refused_even_with_the_token()
    {
        using var session = await BrowserSession.SignInAsync(Api, await Api.KeyForAsync(ApiKeyRole.Reader));

        var recurring = await session.Client.GetStringAsync("/hangfire/recurring");
        Assert.Contains(SweepSchedule.SweepJobId, recurring);
        Assert.DoesNotContain("recurring/trigger", recurring);

        var refused = await session.PostDashboardCommandAsync("/hangfire/recurring/trigger", TriggerSweep, withToken: true);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task The_dashboard_never_shows_the_database_connection_string()
    {
        using var session = await BrowserSession.SignInAsync(Api, FleetApiFactory.AdminApiKey);
        var home = await session.Client.GetStringAsync("/hangfire");
        Assert.DoesNotContain(Api.ConnectionString, home);
        Assert.DoesNotContain("Password", home, StringComparison.OrdinalIgnoreCase);
    }
}
