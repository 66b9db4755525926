using System.Net;
using System.Text.Json;
using Xunit;

namespace ProvisioningFleet.Testing;

/// <summary>Checks that a response is an RFC 9457 problem with the expected status and, for validation, the named fields.</summary>
public static class ProblemAssertions
{
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, params string[] fields)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status} but got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        if (fields.Length > 0)
        {
            var errors = problem.GetProperty("errors");
            foreach (var field in fields)
            {
                Assert.True(errors.TryGetProperty(field, out _), $"The problem does not name '{field}': {body}");
            }
        }

        return problem;
    }
}
