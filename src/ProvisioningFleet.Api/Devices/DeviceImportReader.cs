using System.Text.Json;
using System.Text.Json.Serialization;
using CsvHelper;
using Microsoft.Net.Http.Headers;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Validation;

namespace ProvisioningFleet.Api.Devices;

/// <summary>
/// Reads an import body, CSV (a header row with the device fields; tags separated by ';') or a JSON
/// array of devices, into rows numbered from 1. Structural faults go to the errors, never an exception.
/// </summary>
public static class DeviceImportReader
{
    private static readonly string[] Columns =
        ["hostName", "endpoint", "transport", "authentication", "credential", "tags", "enabled", "remediationExcluded", "spn"];

    private static readonly JsonSerializerOptions StrictJson = new(JsonSerializerDefaults.Web)
    {
        // A misspelt field in a file of thousands would otherwise be silently dropped on every row.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        Converters = { new NulRefusingStringConverter() },
    };

    public static bool IsCsv(MediaTypeHeaderValue contentType) =>
        contentType.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase)
        || contentType.MediaType.Equals("application/csv", StringComparison.OrdinalIgnoreCase);

    public static bool IsJson(MediaTypeHeaderValue contentType) =>
        contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);

    public static async Task<IReadOnlyList<DeviceInput>> ReadJsonAsync(Stream body, ValidationErrors errors, CancellationToken cancellationToken)
    {
        try
        {
            var rows = await JsonSerializer.DeserializeAsync<List<DeviceInput?>>(new ImportBodyGuard(body, ImportBodyGuard.Format.Json), StrictJson, cancellationToken);
            if (rows is null)
            {
                errors.Add("$", "The body must be a JSON array of devices.");
                return [];
            }

            for (var i = 0; i < rows.Count; i++)
            {
                if (rows[i] is null)
                {
                    errors.Add($"rows[{i + 1}]", "A row must be a device object, not null.");
                }
            }

            return rows.Select(row => row ?? new DeviceInput(null)).ToList();
        }
        catch (JsonException exception)
        {
            errors.Add(string.IsNullOrEmpty(exception.Path) ? "$" : exception.Path, JsonFaultMessages.Describe(exception));
            return [];
        }
        catch (Exception exception) when (BoundExceeded(exception) is { } bound)
        {
            errors.Add(bound.Field, bound.Message);
            return [];
        }
    }

    // The guard's refusal, however the reader on top of it passed it on.
    private static ImportBoundExceededException? BoundExceeded(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is ImportBoundExceededException bound)
            {
                return bound;
            }
        }

        return null;
    }

    public static async Task<IReadOnlyList<DeviceInput>> ReadCsvAsync(Stream body, System.Text.Encoding encoding, ValidationErrors errors, CancellationToken cancellationToken)
    {
        var options = new CsvReaderOptions
        {
            HasHeader = true,
            Separator = ',',
            TrimWhitespace = true,
            SkipEmptyLines = true,
            TrackLineNumbers = true,
            Encoding = encoding,
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            MissingField = CsvMissingFieldHandling.ReturnEmpty,
        };
        await using var csv = CsvReader.Create(new ImportBodyGuard(body, ImportBodyGuard.Format.Csv), options, leaveOpen: true);
        var rows = new List<DeviceInput>();
        try
        {
            await csv.ReadHeaderAsync(cancellationToken);
            if (csv.Headers is not { Count: > 0 } header || header.All(string.IsNullOrWhiteSpace))
            {
                errors.Add("header", "The CSV has no header row.");
                return [];
            }

            var columnOf = MapHeader(header, errors);
            if (errors.Any)
            {
                return [];
            }

            while (await csv.ReadAsync(cancellationToken))
            {
                var row = rows.Count + 1;
                string? Field(string name) =>
                    columnOf.TryGetValue(name, out var index) && index < csv.FieldCount && csv.GetStringOrNull(index) is { Length: > 0 } value ? value : null;

                if (csv.FieldCount > header.Count)
                {
                    errors.Add($"rows[{row}]", $"Line {csv.LineNumber} has {csv.FieldCount} fields; the header has {header.Count}.");
                }

                rows.Add(new DeviceInput(
                    Field("hostName"),
                    Field("endpoint"),
                    Field("transport"),
                    Field("authentication"),
                    Field("credential"),
                    Field("tags")?.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                    ParseFlag(Field("enabled"), $"rows[{row}].enabled", errors),
                    ParseFlag(Field("remediationExcluded"), $"rows[{row}].remediationExcluded", errors),
                    Field("spn")));
            }
        }
        catch (CsvFormatException exception)
        {
            errors.Add($"rows[{rows.Count + 1}]", $"Unreadable CSV at line {exception.LineNumber}: {exception.Message}");
        }
        catch (Exception exception) when (BoundExceeded(exception) is { } bound)
        {
            errors.Add(bound.Field, bound.Message);
            return [];
        }

        return rows;
    }

    private static Dictionary<string, int> MapHeader(IReadOnlyList<string> header, ValidationErrors errors)
    {
        var columnOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var index = 0; index < header.Count; index++)
        {
            var name = Columns.FirstOrDefault(column => column.Equals(header[index].Trim(), StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                errors.Add("header", $"Unknown column '{header[index]}'; the columns are {string.Join(", ", Columns)}.");
            }
            else if (!columnOf.TryAdd(name, index))
            {
                errors.Add("header", $"The column '{name}' appears twice.");
            }
        }

        if (!columnOf.ContainsKey("hostName") && !errors.Any)
        {
            errors.Add("header", "The column 'hostName' is required.");
        }

        return columnOf;
    }

    private static bool? ParseFlag(string? text, string field, ValidationErrors errors)
    {
        switch (text?.ToLowerInvariant())
        {
            case null:
                return null;
            case "true" or "1" or "yes":
                return true;
            case "false" or "0" or "no":
                return false;
            default:
                errors.Add(field, $"'{text}' is not true or false.");
                return null;
        }
    }
}
