using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace ProvisioningFleet.Api.Hosting;

/// <summary>
/// PostgreSQL cannot store or compare text holding U+0000: such a value reaching a query fails there,
/// late and as a server error. It is refused at the edge instead, naming where it was found: query
/// parameters and form fields here, JSON strings in <see cref="NulRefusingStringConverter"/>.
/// </summary>
public static class NulCharacters
{
    public const string Message = "The NUL character (U+0000) is not allowed.";

    public static bool Contains(string? text) => text is not null && text.Contains('\0', StringComparison.Ordinal);

    public static IApplicationBuilder UseNulCharacterRefusal(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var field = context.Request.Query.FirstOrDefault(pair => Contains(pair.Key) || pair.Value.Any(Contains)).Key;
            var message = Message;
            if (field is null && context.Request.HasFormContentType)
            {
                try
                {
                    var form = await context.Request.ReadFormAsync(context.RequestAborted);
                    field = form.FirstOrDefault(pair => Contains(pair.Key) || pair.Value.Any(Contains)).Key;
                }
                catch (InvalidDataException invalid)
                {
                    // The form decoder itself refuses %00 (and forms past its limits) with this exception.
                    (field, message) = ("form", invalid.InnerException?.Message is { } inner ? $"{invalid.Message} {inner}" : invalid.Message);
                }
            }

            if (field is null)
            {
                await next(context);
                return;
            }

            var problem = new ValidationProblemDetails(new Dictionary<string, string[]> { [field.Replace("\0", "\\u0000", StringComparison.Ordinal)] = [message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request holds a character that is not allowed",
            };
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>()
                .WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
        });
}

/// <summary>Refuses a JSON string holding U+0000 as malformed JSON, so the problem names its JSON path.</summary>
public sealed class NulRefusingStringConverter : JsonConverter<string>
{
    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("A string is expected.");
        }

        var text = reader.GetString();
        return NulCharacters.Contains(text) ? throw new JsonException(NulCharacters.Message) : text;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>
/// For a field whose absence means "the default": an explicit <c>null</c> is refused rather than read as
/// "left out", so that a client sending null by mistake learns it instead of silently resetting the value.
/// </summary>
public sealed class NullRefusingConverter : JsonConverterFactory
{
    public const string Message = "null is not allowed here: leave the field out to take its default.";

    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(string) || Nullable.GetUnderlyingType(typeToConvert) is not null;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Refusing<>).MakeGenericType(typeToConvert))!;

    private sealed class Refusing<T> : JsonConverter<T>
    {
        public override bool HandleNull => true;

        // The options' own converter, not a nested Deserialize: a fault in it keeps the field's JSON path.
        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null
                ? throw new JsonException(Message)
                : ((JsonConverter<T>)options.GetConverter(typeof(T))).Read(ref reader, typeToConvert, options);

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => JsonSerializer.Serialize(writer, value, options);
    }
}
