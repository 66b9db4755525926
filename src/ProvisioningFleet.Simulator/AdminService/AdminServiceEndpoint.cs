using System.Globalization;
using System.Text.Json;
using ProvisioningFleet.Simulator.Authentication;
using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.Simulator.AdminService;

/// <summary>
/// The site's administration service as a ConfigMgr SMS Provider serves it: <c>GET /AdminService/wmi/{Class}</c>
/// with <c>$filter</c> (<c>Property eq value</c> terms joined by <c>or</c>) and <c>$select</c>, OData JSON
/// answers paged with <c>@odata.nextLink</c>, over HTTPS only, Windows authentication only (Negotiate or
/// NTLM per connection, as the WinRM listener does it; Basic is refused).
/// </summary>
internal sealed class AdminServiceEndpoint(SimulatedSite site, SimulatorOptions options)
{
    private static readonly string[] MemberColumns =
        ["CollectionID", "ResourceID", "Name", "Domain", "SMSID", "IsClient", "IsActive", "IsObsolete", "IsDecommissioned", "ClientVersion", "SiteCode"];

    private static readonly string[] SystemColumns =
        ["ResourceId", "Name", "ResourceNames", "SMSUniqueIdentifier", "Client", "Active", "Obsolete", "Decommissioned", "ResourceDomainORWorkgroup", "OperatingSystemNameandVersion"];

    private static readonly string[] CollectionColumns = ["CollectionID", "Name", "MemberCount"];

    private readonly ListenerAuthentication _authentication = new(new SimulatorOptions
    {
        Users = options.Users,
        AllowBasic = false,
        AllowNegotiate = true,
    });

    public async Task HandleAsync(HttpContext context, string wmiClass)
    {
        if (!context.Request.IsHttps)
        {
            await ErrorAsync(context, StatusCodes.Status403Forbidden, "403.4", "The AdminService requires SSL.");
            return;
        }

        if (_authentication.Authenticate(context, refuseEveryone: false) is not { } caller)
        {
            return;
        }

        if (site.Readers is { } readers && !readers.Any(r => SameUser(r, caller.UserName)))
        {
            await ErrorAsync(context, StatusCodes.Status403Forbidden, "Forbidden", $"{caller.UserName} has no role on site {site.SiteCode} that reads this class.");
            return;
        }

        if (!HttpMethods.IsGet(context.Request.Method))
        {
            await ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "MethodNotAllowed", "Only GET is served here.");
            return;
        }

        site.CountRequest();
        if (string.Equals(site.FailingClass, wmiClass, StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(context, StatusCodes.Status500InternalServerError, "ProviderFailure", $"The SMS Provider failed while reading {wmiClass}.");
            return;
        }

        var columns = wmiClass.ToUpperInvariant() switch
        {
            "SMS_FULLCOLLECTIONMEMBERSHIP" => MemberColumns,
            "SMS_R_SYSTEM" => SystemColumns,
            "SMS_COLLECTION" => CollectionColumns,
            _ => null,
        };
        if (columns is null)
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, "NotFound", $"No type named '{wmiClass}' is served.");
            return;
        }

        var query = context.Request.Query;
        List<(string Property, string Value)> terms;
        try
        {
            terms = ParseFilter(query["$filter"].ToString(), columns);
        }
        catch (FormatException e)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "BadRequest", e.Message);
            return;
        }

        var select = query["$select"].ToString() is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : columns;
        if (select.FirstOrDefault(c => !columns.Contains(c, StringComparer.OrdinalIgnoreCase)) is { } unknown)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "BadRequest", $"Could not find a property named '{unknown}' on type '{wmiClass}'.");
            return;
        }

        var skip = int.TryParse(query["$skiptoken"], NumberStyles.None, CultureInfo.InvariantCulture, out var token) ? token : 0;
        // Rows are built for the page only (one more tells whether another page follows): a 100,000-member collection stays cheap to page through.
        var page = RowsOf(wmiClass.ToUpperInvariant(), terms).Skip(skip).Take(site.PageSize + 1).ToList();
        string? nextLink = null;
        if (page.Count > site.PageSize)
        {
            page.RemoveAt(page.Count - 1);
            nextLink = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{context.Request.Path}"
                + $"?$filter={Uri.EscapeDataString(query["$filter"].ToString())}&$select={Uri.EscapeDataString(query["$select"].ToString())}&$skiptoken={skip + page.Count}";
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; odata.metadata=minimal";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter.AsStream());
        json.WriteStartObject();
        json.WriteString("@odata.context", $"{context.Request.Scheme}://{context.Request.Host}/AdminService/wmi/$metadata#{wmiClass}");
        json.WriteStartArray("value");
        foreach (var row in page)
        {
            json.WriteStartObject();
            foreach (var column in select)
            {
                var name = columns.First(c => c.Equals(column, StringComparison.OrdinalIgnoreCase));
                json.WritePropertyName(name);
                JsonSerializer.Serialize(json, row[name]);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (nextLink is not null)
        {
            json.WriteString("@odata.nextLink", nextLink);
        }

        json.WriteEndObject();
    }

    private IEnumerable<Dictionary<string, object?>> RowsOf(string wmiClass, List<(string Property, string Value)> terms)
    {
        bool Matches(Dictionary<string, object?> row) =>
            terms.Count == 0 || terms.Any(t => string.Equals(Text(row[t.Property]), t.Value, StringComparison.OrdinalIgnoreCase));

        switch (wmiClass)
        {
            case "SMS_FULLCOLLECTIONMEMBERSHIP":
                var collections = terms.Count > 0 && terms.All(t => t.Property == "CollectionID") ? terms.Select(t => t.Value).ToList() : null;
                return site.Memberships(collections).Select(m => MemberRow(m.CollectionId, m.Record)).Where(Matches);
            case "SMS_R_SYSTEM":
                var ids = terms.Count > 0 && terms.All(t => t.Property == "ResourceId")
                    ? terms.Select(t => long.TryParse(t.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : -1).ToList()
                    : null;
                return site.Records(ids).Select(SystemRow).Where(Matches);
            default:
                return site.Collections().Select(c => new Dictionary<string, object?>
                {
                    ["CollectionID"] = c.Id,
                    ["Name"] = c.Name,
                    ["MemberCount"] = c.Count,
                }).Where(Matches);
        }
    }

    private Dictionary<string, object?> MemberRow(string collectionId, SiteRecord r) => new()
    {
        ["CollectionID"] = collectionId,
        ["ResourceID"] = r.ResourceId,
        ["Name"] = r.Name,
        ["Domain"] = r.Domain,
        ["SMSID"] = r.SmsId,
        ["IsClient"] = r.IsClient,
        ["IsActive"] = r.IsActive,
        ["IsObsolete"] = r.IsObsolete,
        ["IsDecommissioned"] = r.IsDecommissioned,
        ["ClientVersion"] = r.IsClient ? r.ClientVersion : null,
        ["SiteCode"] = site.SiteCode,
    };

    private static Dictionary<string, object?> SystemRow(SiteRecord r) => new()
    {
        ["ResourceId"] = r.ResourceId,
        ["Name"] = r.Name,
        ["ResourceNames"] = r.ResourceNames,
        ["SMSUniqueIdentifier"] = r.SmsId,
        ["Client"] = r.IsClient ? 1 : 0,
        ["Active"] = r.IsActive ? 1 : 0,
        ["Obsolete"] = r.IsObsolete ? 1 : 0,
        ["Decommissioned"] = r.IsDecommissioned ? 1 : 0,
        ["ResourceDomainORWorkgroup"] = r.Domain,
        ["OperatingSystemNameandVersion"] = "Microsoft Windows NT Workstation 10.0",
    };

    /// <summary><c>Property eq 'text'</c> or <c>Property eq 123</c>, joined by <c>or</c>; anything else is a 400, as OData answers it.</summary>
    internal static List<(string Property, string Value)> ParseFilter(string filter, string[] columns)
    {
        var terms = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(filter))
        {
            return terms;
        }

        foreach (var term in filter.Split(" or ", StringSplitOptions.TrimEntries))
        {
            var parts = term.Split(" eq ", 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || columns.FirstOrDefault(c => c.Equals(parts[0], StringComparison.OrdinalIgnoreCase)) is not { } property)
            {
                throw new FormatException($"The query specified in the URI is not valid: '{term}' is not 'Property eq value' on this type.");
            }

            var value = parts[1];
            if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
            {
                value = value[1..^1].Replace("''", "'", StringComparison.Ordinal);
            }
            else if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            {
                throw new FormatException($"The query specified in the URI is not valid: '{value}' is neither a quoted string nor a number.");
            }

            terms.Add((property, value));
        }

        return terms;
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static bool SameUser(string reader, string identity)
    {
        static string Bare(string name) => name.Contains('\\') ? name[(name.IndexOf('\\') + 1)..] : name.Contains('@') ? name[..name.IndexOf('@')] : name;
        return string.Equals(Bare(reader), Bare(identity), StringComparison.OrdinalIgnoreCase);
    }

    private static async Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsJsonAsync(new { error = new { code, message } });
    }
}
