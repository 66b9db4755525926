using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Demo;

namespace ProvisioningFleet.Api.Observability;

/// <summary>
/// The console log: one plain line per event where a person reads it (Development and demo mode), one JSON
/// object per line elsewhere, with the message's named values and every scope's values as fields of their own
/// (<c>SweepId</c>, <c>HostName</c>, <c>TraceId</c>...). <c>Logging:Console:FormatterName</c> still chooses.
/// </summary>
public static class FleetConsoleLogging
{
    public static IHostApplicationBuilder AddFleetConsoleLogging(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddConsoleFormatter<FleetJsonConsoleFormatter, JsonConsoleFormatterOptions>();
        builder.Services.Configure<JsonConsoleFormatterOptions>(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        if (!string.IsNullOrWhiteSpace(builder.Configuration["Logging:Console:FormatterName"]))
        {
            return builder;
        }

        if (builder.Environment.IsDevelopment() || builder.Configuration.IsDemo())
        {
            builder.Logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                // The simple format prints a scope by its type name; the values people need are in the messages.
                options.IncludeScopes = false;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = "HH:mm:ss ";
            });
        }
        else
        {
            builder.Logging.AddConsole(options => options.FormatterName = FleetJsonConsoleFormatter.FormatterName);
        }

        return builder;
    }
}

/// <summary>
/// JSON lines for log collectors: <c>Timestamp, LogLevel, Category, EventId, Message, Exception</c>, then the
/// message's named values and the scopes' values as top-level fields (the built-in JSON formatter nests each
/// scope under its type name). A scope that is not a list of values is kept as text in <c>Scopes</c>.
/// </summary>
public sealed class FleetJsonConsoleFormatter(IOptionsMonitor<JsonConsoleFormatterOptions> options) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "fleet-json";

    private static readonly string[] Reserved = ["Timestamp", "LogLevel", "Category", "EventId", "EventName", "Message", "Exception", "Scopes"];

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        var settings = options.CurrentValue;
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, settings.JsonWriterOptions))
        {
            json.WriteStartObject();
            if (settings.TimestampFormat is { } format)
            {
                var now = settings.UseUtcTimestamp ? DateTimeOffset.UtcNow : DateTimeOffset.Now;
                json.WriteString("Timestamp", now.ToString(format, CultureInfo.InvariantCulture));
            }

            json.WriteString("LogLevel", logEntry.LogLevel.ToString());
            json.WriteString("Category", logEntry.Category);
            json.WriteNumber("EventId", logEntry.EventId.Id);
            if (logEntry.EventId.Name is { } eventName)
            {
                json.WriteString("EventName", eventName);
            }

            json.WriteString("Message", message);
            if (logEntry.Exception is not null)
            {
                json.WriteString("Exception", logEntry.Exception.ToString());
            }

            var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
            var texts = new List<string>();
            if (logEntry.State is IEnumerable<KeyValuePair<string, object?>> values)
            {
                Add(fields, values);
            }

            if (settings.IncludeScopes && scopeProvider is not null)
            {
                scopeProvider.ForEachScope((scope, _) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> scopeValues)
                    {
                        Add(fields, scopeValues);
                    }
                    else if (scope is not null)
                    {
                        texts.Add(Convert.ToString(scope, CultureInfo.InvariantCulture) ?? "");
                    }
                }, (object?)null);
            }

            foreach (var (name, value) in fields)
            {
                WriteField(json, name, value);
            }

            if (texts.Count > 0)
            {
                json.WriteStartArray("Scopes");
                texts.ForEach(json.WriteStringValue);
                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write(Environment.NewLine);
    }

    // The first value of a name wins: the message's own, then the scopes from the outermost in.
    private static void Add(Dictionary<string, object?> fields, IEnumerable<KeyValuePair<string, object?>> values)
    {
        foreach (var (name, value) in values)
        {
            if (name != "{OriginalFormat}" && !Reserved.Contains(name))
            {
                fields.TryAdd(name, value);
            }
        }
    }

    private static void WriteField(Utf8JsonWriter json, string name, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(name);
                break;
            case bool flag:
                json.WriteBoolean(name, flag);
                break;
            case int or long or short or byte or uint or ulong or ushort or sbyte:
                json.WriteNumber(name, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double or float or decimal:
                json.WriteNumber(name, Convert.ToDecimal(value, CultureInfo.InvariantCulture));
                break;
            case DateTimeOffset at:
                json.WriteString(name, at);
                break;
            case DateTime at:
                json.WriteString(name, at);
                break;
            default:
                json.WriteString(name, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
