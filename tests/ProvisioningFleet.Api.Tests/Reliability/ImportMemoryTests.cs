using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ProvisioningFleet.Testing;
using Xunit.Abstractions;

namespace ProvisioningFleet.Api.Tests.Reliability;

/// <summary>
/// Issue 16, item 19: an import with one 120 MB field took the service to 4.7 GB. Sent as real bytes (streamed,
/// never held by the test) to the service running as its own process, whose peak resident memory is read from /proc
/// before and after: the field is refused naming its row and column, and the peak grows by far less than the field.
/// </summary>
public sealed class ImportMemoryTests(ITestOutputHelper output)
{
    private const long FieldBytes = 120L * 1024 * 1024;
    private const long AllowedGrowth = 100L * 1024 * 1024;

    [Fact]
    public async Task A_120_MB_field_is_refused_without_the_service_memory_growing()
    {
        await using var service = await FleetServiceProcess.StartAsync(new Dictionary<string, string>());
        using var admin = service.CreateAdminClient();
        admin.Timeout = TimeSpan.FromMinutes(3);

        // The import path warmed up first, so that what is measured is the body, not the first use of the code.
        var warm = await admin.PostAsync("/api/v1/devices/import", new StringContent(
            "hostName,tags\npc-warm.corp.example,a;b\n", Encoding.UTF8, "text/csv"));
        Assert.True(warm.IsSuccessStatusCode, await warm.Content.ReadAsStringAsync());
        var before = service.ReadMemory();

        var json = await admin.PostAsync("/api/v1/devices/import", new HugeFieldContent(
            """[{"hostName":"pc-1.corp.example"},{"hostName":"pc-2.corp.example","endpoint":"http://""", (byte)'a', FieldBytes, """/wsman"}]""", "application/json"));
        await json.AssertProblemAsync(HttpStatusCode.BadRequest, "rows[2].endpoint");

        var csv = await admin.PostAsync("/api/v1/devices/import", new HugeFieldContent(
            "hostName,tags\npc-1.corp.example,a\npc-2.corp.example,", (byte)'t', FieldBytes, "\n", "text/csv"));
        await csv.AssertProblemAsync(HttpStatusCode.BadRequest, "rows[2].tags");

        var quoted = await admin.PostAsync("/api/v1/devices/import", new HugeFieldContent(
            "hostName,tags\n\"pc-1.corp.example", (byte)',', FieldBytes, "\"\n", "text/csv"));
        await quoted.AssertProblemAsync(HttpStatusCode.BadRequest, "rows[1].hostName");

        var after = service.ReadMemory();
        output.WriteLine($"RSS before {before.Resident / 1048576} MiB (peak {before.Peak / 1048576}), after {after.Resident / 1048576} MiB (peak {after.Peak / 1048576})");
        Assert.True(after.Peak - before.Peak < AllowedGrowth, $"Peak RSS grew by {(after.Peak - before.Peak) / 1048576} MiB for a {FieldBytes / 1048576} MiB field");

        // Nothing of the refused files was imported; the service still imports.
        var devices = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/devices")).RootElement;
        Assert.Equal(1, devices.GetProperty("total").GetInt32());
        var next = await admin.PostAsync("/api/v1/devices/import", new StringContent(
            """[{"hostName":"pc-after.corp.example","tags":["x"]}]""", Encoding.UTF8, "application/json"));
        Assert.True(next.IsSuccessStatusCode, await next.Content.ReadAsStringAsync());
    }

    /// <summary>A prefix, one byte repeated <c>count</c> times, a suffix: written in chunks as the request goes out.</summary>
    private sealed class HugeFieldContent : HttpContent
    {
        private readonly byte[] _prefix;
        private readonly byte _fill;
        private readonly long _count;
        private readonly byte[] _suffix;

        public HugeFieldContent(string prefix, byte fill, long count, string suffix, string mediaType)
        {
            (_prefix, _fill, _count, _suffix) = (Encoding.UTF8.GetBytes(prefix), fill, count, Encoding.UTF8.GetBytes(suffix));
            Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_prefix);
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, _fill);
            for (var left = _count; left > 0; left -= chunk.Length)
            {
                await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, left)));
            }

            await stream.WriteAsync(_suffix);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _prefix.Length + _count + _suffix.Length;
            return true;
        }
    }
}
