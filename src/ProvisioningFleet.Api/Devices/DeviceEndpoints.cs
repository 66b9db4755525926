using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.Devices;

namespace ProvisioningFleet.Api.Devices;

public static class DeviceEndpoints
{
    // 100,000 rows of CSV are about 10 MB; leave room for long endpoints and many tags.
    private const long MaxImportBytes = 128L * 1024 * 1024;

    public const string ListMaxAgeSetting = "Fleet:DeviceList:MaxAge";

    /// <summary>
    /// The importer, the endpoint rules, and the device list's <see cref="SharedReads{TValue}"/>: a page asked for by many
    /// readers at once is read once per <c>Fleet:DeviceList:MaxAge</c> (default 1 s; zero: every request reads), and a
    /// write through the API makes it stale at once. A sweep's verdicts show within that age.
    /// </summary>
    public static IHostApplicationBuilder AddFleetInventory(this IHostApplicationBuilder builder)
    {
        var listMaxAge = builder.Configuration.GetValue(ListMaxAgeSetting, TimeSpan.FromSeconds(1));
        builder.Services.AddSingleton(services => new SharedReads<PagedList<DeviceView>>(services.GetRequiredService<TimeProvider>(), listMaxAge));
        builder.Services.AddScoped<DeviceImporter>();
        builder.Services.AddSingleton(services => DeviceEndpointRules.FromConfiguration(services.GetRequiredService<IConfiguration>()));
        return builder;
    }

    public static IEndpointRouteBuilder MapDeviceEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var devices = endpoints.MapGroup("/api/v1/devices").WithTags("Devices");
        devices.MapGet("/", ListAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("ListDevices")
            .WithSummary("Devices by host name. Filters (each may repeat, values OR): state, tag; search (part of the host name), enabled.");
        devices.MapGet("/{id:long}", GetAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("GetDevice").WithSummary("One device with its latest verdict.");
        devices.MapPost("/", CreateAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("CreateDevice").WithSummary("Adds a device; 409 when the host name (case-insensitive) exists.");
        devices.MapPut("/{id:long}", ReplaceAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("ReplaceDevice").WithSummary("Replaces a device's settings (the verdict is kept); fields left out take their defaults.");
        devices.MapDelete("/{id:long}", DeleteAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("DeleteDevice").WithSummary("Deletes a device with its history.");
        devices.MapPost("/import", ImportAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("ImportDevices")
            .WithSummary("Upserts devices by host name from text/csv (header row; tags ';'-separated) or a JSON array; all or nothing.")
            .Accepts<DeviceInput[]>("application/json", "text/csv")
            .DisableAntiforgery();
        return endpoints;
    }

    private static async Task<Results<Ok<PagedList<DeviceView>>, ValidationProblem>> ListAsync(
        IDbContextFactory<FleetDbContext> contexts,
        SharedReads<PagedList<DeviceView>> reads,
        string[]? state,
        string[]? tag,
        string? search,
        string? enabled,
        string? page,
        string? pageSize,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var paging = PageRequest.Parse(page, pageSize, errors);
        var states = errors.ParseEnums<DeviceState>("state", state);
        bool? enabledFilter = enabled?.ToLowerInvariant() switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => Invalid(errors, "enabled", "enabled must be true or false."),
        };
        var tagKeys = (tag ?? []).Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => Device.KeyOf(t.Trim())).Distinct().ToArray();
        errors.MaxLength("search", search, FleetLimits.HostName);

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        IQueryable<Device> Filtered(FleetDbContext context)
        {
            IQueryable<Device> devices = context.Devices.AsNoTracking();
            if (states is [var only])
            {
                // Equality, not "= ANY": PostgreSQL 15 then reads the (state, host name) index in page order.
                devices = devices.Where(d => d.State == only);
            }
            else if (states.Length > 0)
            {
                devices = devices.Where(d => states.Contains(d.State));
            }

            if (tagKeys.Length > 0)
            {
                // Array overlap (&&): served by the GIN index on tag_keys, or filtered inside the covering indexes.
                devices = devices.Where(d => d.TagKeys.Any(t => tagKeys.Contains(t)));
            }

            if (!string.IsNullOrWhiteSpace(search))
            {
                var pattern = "%" + Like.Escape(Device.KeyOf(search.Trim())) + "%";
                // The collation of the trigram index, which serves this search and nothing else (see DeviceConfiguration).
                devices = devices.Where(d => EF.Functions.Like(EF.Functions.Collate(d.HostNameKey, Device.SearchCollation), pattern, Like.EscapeCharacter));
            }

            if (enabledFilter is { } isEnabled)
            {
                devices = devices.Where(d => d.Enabled == isEnabled);
            }

            return devices;
        }

        async Task<PagedList<DeviceView>> ReadPageAsync(CancellationToken cancellationToken)
        {
            // The total (counted up to the bound) and the page at once, on two connections: over a broad filter the count is the
            // slower half, and waiting for one before starting the other would add their times.
            await using var countContext = await contexts.CreateDbContextAsync(cancellationToken);
            var counting = PageRequest.CountUpToBoundAsync(Filtered(countContext), cancellationToken);

            // The page's ids first, then only their rows: skipping to a deep page runs in the covering index
            // (host name, state, enabled, tags) instead of reading every skipped row with its joins.
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var pageIds = Filtered(db).OrderBy(d => d.HostNameKey).Skip(paging.Skip).Take(paging.PageSize).Select(d => d.Id);
            var reading = db.Devices.AsNoTracking()
                .Where(d => pageIds.Contains(d.Id))
                .OrderBy(d => d.HostNameKey)
                .Select(DeviceView.Projection)
                .ToListAsync(cancellationToken);
            await Task.WhenAll(counting, reading);
            return paging.Answer(await reading, await counting);
        }

        // The same filter however it was written: states and tags in order, the search as matched.
        var key = string.Join('|',
            string.Join(',', states.Order()), string.Join(',', tagKeys.Order(StringComparer.Ordinal)),
            string.IsNullOrWhiteSpace(search) ? "" : Device.KeyOf(search.Trim()), enabledFilter?.ToString() ?? "", paging.Page, paging.PageSize);
        return TypedResults.Ok(await reads.ReadAsync(key, ReadPageAsync, cancellationToken));
    }

    private static async Task<Results<Ok<DeviceView>, NotFound<ProblemDetails>>> GetAsync(long id, FleetDbContext db, CancellationToken cancellationToken) =>
        await FindViewAsync(db, id, cancellationToken) is { } view ? TypedResults.Ok(view) : Problems.DeviceNotFound(id);

    private static async Task<Results<Created<DeviceView>, ValidationProblem, Conflict<ProblemDetails>>> CreateAsync(
        DeviceInput input, FleetDbContext db, IAuditTrail audit, DeviceEndpointRules endpoints, SharedReads<PagedList<DeviceView>> reads, TimeProvider time,
        HttpContext context, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (DeviceRules.Validate(input, "", errors, await CredentialsAsync(db, input, cancellationToken), endpoints) is not { } valid)
        {
            return errors.ToProblem();
        }

        if (await db.Devices.AnyAsync(d => d.HostNameKey == Device.KeyOf(valid.HostName), cancellationToken))
        {
            return HostTaken(valid.HostName);
        }

        var now = time.GetUtcNow();
        var device = new Device { CreatedAt = now };
        Apply(device, valid, now);
        db.Devices.Add(device);
        audit.Record(db, context.User, "device.create", $"device:{device.HostName}", valid);
        if (!await TrySaveAsync(db, cancellationToken))
        {
            return HostTaken(valid.HostName);
        }

        reads.Invalidate();
        return TypedResults.Created($"/api/v1/devices/{device.Id}", (await FindViewAsync(db, device.Id, cancellationToken))!);
    }

    private static async Task<Results<Ok<DeviceView>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> ReplaceAsync(
        long id, DeviceInput input, FleetDbContext db, IAuditTrail audit, DeviceEndpointRules endpoints, SharedReads<PagedList<DeviceView>> reads, TimeProvider time,
        HttpContext context, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (DeviceRules.Validate(input, "", errors, await CredentialsAsync(db, input, cancellationToken), endpoints) is not { } valid)
        {
            return errors.ToProblem();
        }

        if (await db.Devices.SingleOrDefaultAsync(d => d.Id == id, cancellationToken) is not { } device)
        {
            return Problems.DeviceNotFound(id);
        }

        if (await db.Devices.AnyAsync(d => d.HostNameKey == Device.KeyOf(valid.HostName) && d.Id != id, cancellationToken))
        {
            return HostTaken(valid.HostName);
        }

        var previousHostName = device.HostName;
        var previousReach = (device.Endpoint, device.Transport, device.Authentication, device.CredentialId, device.ServicePrincipalName);
        Apply(device, valid, time.GetUtcNow());
        audit.Record(db, context.User, "device.replace", $"device:{previousHostName}", valid);
        if (previousReach != (device.Endpoint, device.Transport, device.Authentication, device.CredentialId, device.ServicePrincipalName))
        {
            // Where and how the device's credential goes is the change an attacker with an Admin key would make: its own entry.
            var names = await db.Credentials.AsNoTracking()
                .Where(c => c.Id == previousReach.CredentialId || c.Id == device.CredentialId)
                .ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
            string? NameOf(long? credentialId) => credentialId is { } known && names.TryGetValue(known, out var name) ? name : null;
            audit.Record(db, context.User, DeviceReach.ChangeAction, $"device:{device.HostName}", new
            {
                before = new DeviceReach(previousReach.Endpoint, previousReach.Transport.ToString(), previousReach.Authentication.ToString(),
                    NameOf(previousReach.CredentialId), previousReach.ServicePrincipalName),
                after = new DeviceReach(device.Endpoint, device.Transport.ToString(), device.Authentication.ToString(),
                    NameOf(device.CredentialId), device.ServicePrincipalName),
            });
        }
        if (!await TrySaveAsync(db, cancellationToken))
        {
            return HostTaken(valid.HostName);
        }

        reads.Invalidate();
        return TypedResults.Ok((await FindViewAsync(db, id, cancellationToken))!);
    }

    private static async Task<Results<NoContent, NotFound<ProblemDetails>>> DeleteAsync(
        long id, FleetDbContext db, IAuditTrail audit, SharedReads<PagedList<DeviceView>> reads, HttpContext context, CancellationToken cancellationToken)
    {
        if (await db.Devices.SingleOrDefaultAsync(d => d.Id == id, cancellationToken) is not { } device)
        {
            return Problems.DeviceNotFound(id);
        }

        db.Devices.Remove(device);
        audit.Record(db, context.User, "device.delete", $"device:{device.HostName}");
        await db.SaveChangesAsync(cancellationToken);
        reads.Invalidate();
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<ImportResult>, ValidationProblem, ProblemHttpResult>> ImportAsync(
        HttpContext context, DeviceImporter importer, SharedReads<PagedList<DeviceView>> reads, CancellationToken cancellationToken)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            sizeLimit.MaxRequestBodySize = MaxImportBytes;
        }

        var errors = new ValidationErrors();
        IReadOnlyList<DeviceInput> rows;
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var contentType))
        {
            return UnsupportedMediaType();
        }

        if (DeviceImportReader.IsCsv(contentType))
        {
            rows = await DeviceImportReader.ReadCsvAsync(context.Request.Body, contentType.Encoding ?? System.Text.Encoding.UTF8, errors, cancellationToken);
        }
        else if (DeviceImportReader.IsJson(contentType))
        {
            rows = await DeviceImportReader.ReadJsonAsync(context.Request.Body, errors, cancellationToken);
        }
        else
        {
            return UnsupportedMediaType();
        }

        if (await importer.ImportAsync(rows, context.User, errors, cancellationToken) is not { } result)
        {
            return ImportRejected(errors);
        }

        reads.Invalidate();
        return TypedResults.Ok(result);
    }

    private static ValidationProblem ImportRejected(ValidationErrors errors) =>
        TypedResults.ValidationProblem(
            errors.ToDictionary(),
            title: "The import was rejected; nothing was imported",
            detail: "rows[N] numbers rows from 1: the first line after the CSV header, or the first item of the JSON array.");

    private static ProblemHttpResult UnsupportedMediaType() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status415UnsupportedMediaType,
            title: "Unsupported media type",
            detail: "Send text/csv (a header row with the device fields) or application/json (an array of devices).");

    private static void Apply(Device device, ValidDevice valid, DateTimeOffset now)
    {
        device.SetHostName(valid.HostName);
        device.Endpoint = valid.Endpoint;
        device.Transport = valid.Transport;
        device.Authentication = valid.Authentication;
        device.CredentialId = valid.CredentialId;
        device.ServicePrincipalName = valid.Spn;
        device.SetTags(valid.Tags);
        device.Enabled = valid.Enabled;
        device.RemediationExcluded = valid.RemediationExcluded;
        device.UpdatedAt = now;
    }

    private static Task<DeviceView?> FindViewAsync(FleetDbContext db, long id, CancellationToken cancellationToken) =>
        db.Devices.AsNoTracking().Where(d => d.Id == id).Select(DeviceView.Projection).SingleOrDefaultAsync(cancellationToken);

    private static async Task<IReadOnlyDictionary<string, Credential>> CredentialsAsync(FleetDbContext db, DeviceInput input, CancellationToken cancellationToken)
    {
        var name = input.Credential?.Trim();
        return string.IsNullOrEmpty(name)
            ? new Dictionary<string, Credential>()
            : await db.Credentials.AsNoTracking().Where(c => c.Name == name).ToDictionaryAsync(c => c.Name, cancellationToken);
    }

    // Two callers can pass the existence check together; the unique index decides, and the loser gets a 409.
    private static async Task<bool> TrySaveAsync(FleetDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException exception) when (exception.IsUniqueViolation(out _))
        {
            return false;
        }
    }

    private static bool? Invalid(ValidationErrors errors, string field, string message)
    {
        errors.Add(field, message);
        return null;
    }

    private static Conflict<ProblemDetails> HostTaken(string hostName) =>
        Problems.Conflict("Host name taken", $"A device named '{hostName}' already exists (host names are compared case-insensitively).");
}
