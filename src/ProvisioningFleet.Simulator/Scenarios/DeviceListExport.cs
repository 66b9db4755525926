using System.Text;
using System.Text.Json;
using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Scenarios;

/// <summary>How exported devices are to be reached by the service.</summary>
public sealed record DeviceExportSettings(
    Func<SimulatedDevice, Uri> Endpoint,
    string Transport = "Http",
    string Authentication = "Basic",
    string? Credential = "simulator");

/// <summary>One row of the service's device import (api.md, <c>POST /api/v1/devices/import</c>).</summary>
public sealed record DeviceImportRow(
    string HostName, string Endpoint, string Transport, string Authentication, string? Credential,
    IReadOnlyList<string> Tags, bool Enabled, bool RemediationExcluded);

/// <summary>Writes the simulated fleet as the service imports devices: CSV (tags ;-separated) or JSON.</summary>
public static class DeviceListExport
{
    public const string CsvHeader = "hostName,endpoint,transport,authentication,credential,tags,enabled,remediationExcluded";

    public static IEnumerable<DeviceImportRow> Rows(IEnumerable<SimulatedDevice> devices, DeviceExportSettings settings) =>
        devices.OrderBy(d => d.HostName, StringComparer.OrdinalIgnoreCase).Select(d => new DeviceImportRow(
            d.HostName, settings.Endpoint(d).ToString(), settings.Transport, settings.Authentication, settings.Credential,
            d.Tags, Enabled: true, RemediationExcluded: false));

    public static async Task WriteCsvAsync(TextWriter writer, IEnumerable<SimulatedDevice> devices, DeviceExportSettings settings, CancellationToken cancellationToken = default)
    {
        await writer.WriteLineAsync(CsvHeader.AsMemory(), cancellationToken);
        var line = new StringBuilder(256);
        foreach (var row in Rows(devices, settings))
        {
            line.Clear()
                .Append(Field(row.HostName)).Append(',')
                .Append(Field(row.Endpoint)).Append(',')
                .Append(Field(row.Transport)).Append(',')
                .Append(Field(row.Authentication)).Append(',')
                .Append(Field(row.Credential ?? string.Empty)).Append(',')
                .Append(Field(string.Join(';', row.Tags))).Append(',')
                .Append(row.Enabled ? "true" : "false").Append(',')
                .Append(row.RemediationExcluded ? "true" : "false");
            await writer.WriteLineAsync(line, cancellationToken);
        }
    }

    public static async Task WriteJsonAsync(Stream stream, IEnumerable<SimulatedDevice> devices, DeviceExportSettings settings, CancellationToken cancellationToken = default) =>
        await JsonSerializer.SerializeAsync(stream, Rows(devices, settings), new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }, cancellationToken);

    private static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
}
