using Microsoft.AspNetCore.Http.HttpResults;

namespace ProvisioningFleet.Api.Validation;

/// <summary>
/// The one way requests are validated: errors collected field by field (query parameters, body fields,
/// import rows as <c>rows[N].field</c>), answered together as one problem (RFC 9457) naming each field.
/// </summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }

        messages.Add(message);
    }

    /// <summary>A text longer than the column it is stored in (or compared with) is refused, never cut.</summary>
    public void MaxLength(string field, string? value, int limit)
    {
        if (value is not null && value.Length > limit)
        {
            Add(field, $"{field} must be at most {limit} characters.");
        }
    }

    public IDictionary<string, string[]> ToDictionary() => _errors.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray());

    public ValidationProblem ToProblem() => TypedResults.ValidationProblem(ToDictionary());

    /// <summary>Parses a filter given any number of times into enum values, naming bad ones.</summary>
    public TEnum[] ParseEnums<TEnum>(string field, string[]? values) where TEnum : struct, Enum
    {
        if (values is null)
        {
            return [];
        }

        var parsed = new List<TEnum>(values.Length);
        foreach (var value in values)
        {
            if (Enum.TryParse<TEnum>(value, ignoreCase: true, out var result) && Enum.IsDefined(result) && !int.TryParse(value, out _))
            {
                parsed.Add(result);
            }
            else
            {
                Add(field, $"'{value}' is not one of {string.Join(", ", Enum.GetNames<TEnum>())}.");
            }
        }

        return parsed.Distinct().ToArray();
    }
}
