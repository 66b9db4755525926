using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Credentials;

namespace ProvisioningFleet.Api.Credentials;

public static partial class CredentialEndpoints
{
    /// <summary>Data Protection with its key ring in PostgreSQL, encrypted by the key-ring certificate; and the vault.</summary>
    public static IHostApplicationBuilder AddFleetCredentials(this IHostApplicationBuilder builder)
    {
        var certificate = KeyRingCertificate.Load(builder);
        builder.Services.AddSingleton(certificate);
        builder.Services.AddHostedService<KeyRingStartupCheck>();
        builder.Services.AddDataProtection()
            .SetApplicationName("ProvisioningFleet")
            .PersistKeysToDbContext<FleetDbContext>()
            .ProtectKeysWithCertificate(certificate.Certificate)
            .UnprotectKeysWithAnyCertificate(certificate.Certificate);
        builder.Services.AddSingleton<CredentialVault>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCredentialEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var credentials = endpoints.MapGroup("/api/v1/credentials").WithTags("Credentials");
        credentials.MapGet("/", ListAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("ListCredentials").WithSummary("Credentials, without their passwords.");
        credentials.MapGet("/{id:long}", GetAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("GetCredential").WithSummary("One credential, without its password.");
        credentials.MapPost("/", CreateAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("CreateCredential").WithSummary("Stores a credential; the password is encrypted and never returned.");
        credentials.MapPut("/{id:long}", ReplaceAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("ReplaceCredential").WithSummary("Replaces a credential: rotation of its password.");
        credentials.MapDelete("/{id:long}", DeleteAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("DeleteCredential").WithSummary("Deletes a credential; 409 while a device uses it.");
        return endpoints;
    }

    private static Task<Results<Ok<PagedList<CredentialView>>, ValidationProblem>> ListAsync(
        FleetDbContext db, string? page, string? pageSize, CancellationToken cancellationToken) =>
        PageRequest.ListAsync(
            page, pageSize, db.Credentials.AsNoTracking(), query => query.OrderBy(c => c.Name), CredentialView.Projection, cancellationToken);

    private static async Task<Results<Ok<CredentialView>, NotFound<ProblemDetails>>> GetAsync(
        long id, FleetDbContext db, CancellationToken cancellationToken) =>
        await db.Credentials.AsNoTracking().Where(c => c.Id == id).Select(CredentialView.Projection).SingleOrDefaultAsync(cancellationToken) is { } view
            ? TypedResults.Ok(view)
            : NotFound(id);

    private static async Task<Results<Created<CredentialView>, ValidationProblem, Conflict<ProblemDetails>>> CreateAsync(
        CredentialInput input, FleetDbContext db, CredentialVault vault, IAuditTrail audit, TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        if (Validate(input) is { } invalid)
        {
            return invalid;
        }

        // Names differing only in case would let an operator pick the wrong one from a list or a device file.
        var nameKey = input.Name!.Trim().ToLowerInvariant();
        if (await db.Credentials.AnyAsync(c => c.Name.ToLower() == nameKey, cancellationToken))
        {
            return NameTaken(input.Name!);
        }

        var now = time.GetUtcNow();
        var credential = new Credential { CreatedAt = now };
        Apply(credential, input, vault, now);
        db.Credentials.Add(credential);
        audit.Record(db, context.User, "credential.create", $"credential:{credential.Name}",
            new { credential.Name, credential.UserName, credential.Domain, credential.AllowedHosts, allowedAuthentications = SchemeNames(credential) });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/credentials/{credential.Id}", CredentialView.From(credential));
    }

    private static async Task<Results<Ok<CredentialView>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> ReplaceAsync(
        long id, CredentialInput input, FleetDbContext db, CredentialVault vault, IAuditTrail audit, TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        if (Validate(input) is { } invalid)
        {
            return invalid;
        }

        if (await db.Credentials.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is not { } credential)
        {
            return NotFound(id);
        }

        var nameKey = input.Name!.Trim().ToLowerInvariant();
        if (await db.Credentials.AnyAsync(c => c.Name.ToLower() == nameKey && c.Id != id, cancellationToken))
        {
            return NameTaken(input.Name!);
        }

        var previousName = credential.Name;
        var previousScope = new { credential.AllowedHosts, allowedAuthentications = SchemeNames(credential) };
        Apply(credential, input, vault, time.GetUtcNow());
        var scope = new { credential.AllowedHosts, allowedAuthentications = SchemeNames(credential) };
        var scopeChanged = !previousScope.AllowedHosts.SequenceEqual(scope.AllowedHosts) || !previousScope.allowedAuthentications.SequenceEqual(scope.allowedAuthentications);
        audit.Record(db, context.User, "credential.replace", $"credential:{previousName}",
            new { credential.Name, credential.UserName, credential.Domain, passwordChanged = true, scopeChanged, before = scopeChanged ? previousScope : null, after = scope });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(CredentialView.From(credential));
    }

    private static async Task<Results<NoContent, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> DeleteAsync(
        long id, FleetDbContext db, IAuditTrail audit, HttpContext context, CancellationToken cancellationToken)
    {
        if (await db.Credentials.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is not { } credential)
        {
            return NotFound(id);
        }

        var users = await db.Devices.CountAsync(d => d.CredentialId == id, cancellationToken);
        if (users > 0)
        {
            return Problems.Conflict("The credential is in use", $"{users} device(s) use credential '{credential.Name}'; give them another credential first.");
        }

        var sources = await db.InventorySources.CountAsync(s => s.CredentialId == id || s.DeviceCredentialId == id, cancellationToken);
        if (sources > 0)
        {
            return Problems.Conflict("The credential is in use", $"{sources} inventory source(s) use credential '{credential.Name}'; give them another credential first.");
        }

        db.Credentials.Remove(credential);
        audit.Record(db, context.User, "credential.delete", $"credential:{credential.Name}");
        // The foreign key (ON DELETE RESTRICT) catches a device assigned between the count and the delete.
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static void Apply(Credential credential, CredentialInput input, CredentialVault vault, DateTimeOffset now)
    {
        credential.Name = input.Name!.Trim();
        credential.UserName = input.UserName!.Trim();
        credential.Domain = string.IsNullOrWhiteSpace(input.Domain) ? null : input.Domain.Trim();
        credential.ProtectedPassword = vault.Protect(input.Password!);
        credential.AllowedHosts = (input.AllowedHosts ?? []).Select(h => h!.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        credential.AllowedAuthentications = (input.AllowedAuthentications ?? [])
            .Select(a => Enum.Parse<CimAuthentication>(a!.Trim(), ignoreCase: true)).Distinct().Order().ToArray();
        credential.UpdatedAt = now;
    }

    private static string[] SchemeNames(Credential credential) => credential.AllowedAuthentications.Select(a => a.ToString()).ToArray();

    private static ValidationProblem? Validate(CredentialInput input)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(input.Name))
        {
            errors.Add("name", "name is required.");
        }
        else if (!CredentialName().IsMatch(input.Name.Trim()))
        {
            errors.Add("name", "name must be 1 to 128 letters, digits, '.', '_' or '-'.");
        }

        if (string.IsNullOrWhiteSpace(input.UserName))
        {
            errors.Add("userName", "userName is required.");
        }
        else if (input.UserName.Length > 256)
        {
            errors.Add("userName", "userName must be at most 256 characters.");
        }

        if (string.IsNullOrEmpty(input.Password))
        {
            errors.Add("password", "password is required.");
        }
        else if (string.IsNullOrWhiteSpace(input.Password))
        {
            errors.Add("password", "password must not be only whitespace.");
        }
        else if (input.Password.Length > 1024)
        {
            errors.Add("password", "password must be at most 1024 characters.");
        }

        if (input.Domain is { Length: > 256 })
        {
            errors.Add("domain", "domain must be at most 256 characters.");
        }

        if (input.AllowedHosts is { Length: > CredentialScope.MaxHostPatterns })
        {
            errors.Add("allowedHosts", $"A credential has at most {CredentialScope.MaxHostPatterns} host patterns.");
        }
        else
        {
            foreach (var pattern in input.AllowedHosts ?? [])
            {
                if (CredentialScope.PatternError(pattern?.Trim() ?? "") is { } error)
                {
                    errors.Add("allowedHosts", error);
                }
            }
        }

        foreach (var scheme in input.AllowedAuthentications ?? [])
        {
            if (scheme is null || !Enum.TryParse<CimAuthentication>(scheme.Trim(), ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || scheme.Trim().All(char.IsAsciiDigit))
            {
                errors.Add("allowedAuthentications", $"allowedAuthentications holds scheme names: {string.Join(", ", Enum.GetNames<CimAuthentication>())}.");
                break;
            }
        }

        return errors.Any ? errors.ToProblem() : null;
    }

    private static NotFound<ProblemDetails> NotFound(long id) =>
        Problems.NotFound("Credential not found", $"There is no credential {id}.");

    private static Conflict<ProblemDetails> NameTaken(string name) =>
        Problems.Conflict("Credential name taken", $"A credential named '{name.Trim()}' already exists.");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex CredentialName();
}

/// <summary>
/// A credential as sent: <c>password</c> is accepted here and never returned. Unknown fields are refused.
/// <c>allowedHosts</c>: where it may be sent (host names, <c>*.suffix</c>, IP addresses or networks, <c>*</c>; none: each
/// device's own host name); <c>allowedAuthentications</c>: the schemes it may be used with (none: every scheme).
/// </summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record CredentialInput(
    string? Name, string? UserName, string? Password, string? Domain, string?[]? AllowedHosts = null, string?[]? AllowedAuthentications = null);

/// <summary>A credential as returned: never with its password.</summary>
public sealed record CredentialView(
    long Id, string Name, string UserName, string? Domain, string[] AllowedHosts, CimAuthentication[] AllowedAuthentications,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static readonly System.Linq.Expressions.Expression<Func<Credential, CredentialView>> Projection =
        c => new CredentialView(c.Id, c.Name, c.UserName, c.Domain, c.AllowedHosts, c.AllowedAuthentications, c.CreatedAt, c.UpdatedAt);

    public static CredentialView From(Credential c) => new(c.Id, c.Name, c.UserName, c.Domain, c.AllowedHosts, c.AllowedAuthentications, c.CreatedAt, c.UpdatedAt);
}
