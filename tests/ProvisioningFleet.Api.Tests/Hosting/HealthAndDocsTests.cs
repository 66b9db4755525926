using System.Net;
using System.Text.Json;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Hosting;

[Collection(PostgresCollection.Name)]
public sealed class HealthAndDocsTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_answers_without_a_key(string path)
    {
        using var client = Api.CreateAnonymousClient();
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_document_describes_the_resources()
    {
        using var client = Api.CreateAnonymousClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/devices", out _));
        Assert.True(paths.TryGetProperty("/api/v1/devices/import", out _));
        Assert.True(paths.TryGetProperty("/api/v1/credentials", out _));
        Assert.True(paths.TryGetProperty("/api/v1/keys", out _));
        Assert.Equal("header", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("in").GetString());
    }

    [Fact]
    public async Task Interactive_api_page_is_served()
    {
        using var client = Api.CreateAnonymousClient();
        var redirect = await client.GetAsync("/scalar");
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        var response = await client.GetAsync(redirect.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Unknown_route_is_a_problem_not_an_empty_404()
    {
        using var client = Api.CreateAdminClient();
        var response = await client.GetAsync("/api/v1/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
