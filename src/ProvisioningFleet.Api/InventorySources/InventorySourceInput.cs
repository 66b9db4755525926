using System.Linq.Expressions;
using System.Text.RegularExpressions;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.InventorySources;

namespace ProvisioningFleet.Api.InventorySources;

/// <summary>A source as sent by POST or PUT: loose strings, so that every bad value is a validation error naming its field.</summary>
public sealed record InventorySourceInput(
    string? Name,
    string? AdminServiceUrl,
    string? Credential,
    string[]? CollectionIds,
    string? EndpointTemplate,
    string? Authentication = null,
    string? DeviceCredential = null,
    string[]? Tags = null,
    string? SyncCron = null,
    string? OnRemoved = null,
    bool? Enabled = null,
    string? CertificateSha256 = null);

/// <summary>A source input that passed validation, with api.md's defaults filled in.</summary>
public sealed record ValidInventorySource(
    string Name,
    Uri AdminServiceUrl,
    long CredentialId,
    string[] CollectionIds,
    string EndpointTemplate,
    CimAuthentication Authentication,
    long? DeviceCredentialId,
    string[] Tags,
    string SyncCron,
    InventoryRemovalAction OnRemoved,
    bool Enabled,
    string? CertificateSha256);

public static partial class InventorySourceRules
{
    public const string FqdnPlaceholder = "{fqdn}";
    public const string NamePlaceholder = "{name}";
    public const int MaxCollections = 100;

    /// <summary>The endpoint of one member: the template with its DNS name (and NetBIOS name) filled in.</summary>
    public static string EndpointFor(string template, string fqdn, string name) =>
        template.Replace(FqdnPlaceholder, fqdn, StringComparison.OrdinalIgnoreCase).Replace(NamePlaceholder, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Checks <paramref name="input"/> into <paramref name="errors"/>; <paramref name="credentials"/> holds the credentials by name,
    /// <paramref name="endpoints"/> are the rules every device endpoint (and every credential's use) meets.
    /// </summary>
    public static ValidInventorySource? Validate(
        InventorySourceInput input, ValidationErrors errors, IReadOnlyDictionary<string, Credential> credentials, DeviceEndpointRules endpoints)
    {
        var valid = true;
        void Fail(string field, string message)
        {
            errors.Add(field, message);
            valid = false;
        }

        var name = input.Name?.Trim() ?? "";
        if (!SourceName().IsMatch(name))
        {
            Fail("name", "name is required: 1 to 128 letters, digits, '.', '_' or '-'.");
        }

        Uri? url = null;
        if (string.IsNullOrWhiteSpace(input.AdminServiceUrl))
        {
            Fail("adminServiceUrl", "adminServiceUrl is required, e.g. https://cm01.corp.example/AdminService.");
        }
        else if (!Uri.TryCreate(input.AdminServiceUrl.Trim(), UriKind.Absolute, out url) || url.Scheme != Uri.UriSchemeHttps
                 || url.UserInfo.Length > 0 || url.Query.Length > 0 || url.Fragment.Length > 0 || input.AdminServiceUrl.Length > 2048)
        {
            Fail("adminServiceUrl", "adminServiceUrl must be an https:// URL without user information or query, e.g. https://cm01.corp.example/AdminService.");
        }

        long credentialId = 0;
        if (string.IsNullOrWhiteSpace(input.Credential))
        {
            Fail("credential", "credential is required: the account that reads the site (Negotiate).");
        }
        else if (!credentials.TryGetValue(input.Credential.Trim(), out var siteCredential))
        {
            Fail("credential", $"There is no credential named '{Shorten(input.Credential.Trim())}'.");
        }
        else
        {
            credentialId = siteCredential.Id;
            if (url is not null && endpoints.CredentialRefusal(siteCredential, SiteUse(url)) is { } refusal)
            {
                Fail("credential", refusal);
            }
        }

        var collections = (input.CollectionIds ?? []).Select(c => c?.Trim().ToUpperInvariant() ?? "").ToArray();
        if (collections.Length == 0)
        {
            Fail("collectionIds", "collectionIds needs at least one collection, e.g. [\"SMS00001\"].");
        }
        else if (collections.Length > MaxCollections)
        {
            Fail("collectionIds", $"A source follows at most {MaxCollections} collections.");
        }

        foreach (var bad in collections.Where(c => !CollectionId().IsMatch(c)))
        {
            Fail("collectionIds", $"'{Shorten(bad)}' is not a collection ID (8 letters and digits, e.g. P0100017).");
        }

        var template = input.EndpointTemplate?.Trim() ?? "";
        if (!template.Contains(FqdnPlaceholder, StringComparison.OrdinalIgnoreCase) && !template.Contains(NamePlaceholder, StringComparison.OrdinalIgnoreCase))
        {
            Fail("endpointTemplate", "endpointTemplate is required and names the member by {fqdn} (or {name}), e.g. http://{fqdn}:5985/wsman.");
        }

        // A member's device must pass the same rules as a device created by hand: try one.
        var sample = new ValidationErrors();
        var device = DeviceRules.Validate(
            new DeviceInput("member.example", template.Length == 0 ? null : EndpointFor(template, "member.example", "MEMBER"), null,
                input.Authentication, input.DeviceCredential, input.Tags),
            "", sample, credentials, endpoints, checkCredentialHosts: false);
        foreach (var (field, messages) in sample.ToDictionary())
        {
            foreach (var message in messages)
            {
                Fail(field switch { "endpoint" or "transport" => "endpointTemplate", "credential" => "deviceCredential", _ => field }, message);
            }
        }

        var cron = string.IsNullOrWhiteSpace(input.SyncCron) ? "*/30 * * * *" : input.SyncCron.Trim();
        if (!SweepSchedule.IsValidCron(cron))
        {
            Fail("syncCron", $"'{Shorten(cron)}' is not a five-field cron expression (UTC), e.g. */30 * * * *.");
        }

        var onRemoved = InventoryRemovalAction.Disable;
        if (!string.IsNullOrWhiteSpace(input.OnRemoved)
            && (!Enum.TryParse(input.OnRemoved.Trim(), ignoreCase: true, out onRemoved) || !Enum.IsDefined(onRemoved) || input.OnRemoved.Trim().All(char.IsAsciiDigit)))
        {
            Fail("onRemoved", "onRemoved must be Disable or Delete.");
        }

        string? pinned = null;
        if (!string.IsNullOrWhiteSpace(input.CertificateSha256))
        {
            pinned = new string(input.CertificateSha256.Where(c => c is not (':' or ' ')).ToArray()).ToUpperInvariant();
            if (pinned.Length != 64 || !pinned.All(Uri.IsHexDigit))
            {
                Fail("certificateSha256", "certificateSha256 must be the SHA-256 hash of the AdminService's certificate: 64 hex digits.");
            }
        }

        if (!valid || device is null || url is null)
        {
            return null;
        }

        return new ValidInventorySource(name, url, credentialId, collections.Distinct().ToArray(), template, device.Authentication,
            device.CredentialId, device.Tags, cron, onRemoved, input.Enabled ?? true, pinned);
    }

    /// <summary>How a source's own credential is used: Negotiate over HTTPS to the AdminService's host.</summary>
    public static CredentialUse SiteUse(Uri adminServiceUrl) =>
        new(adminServiceUrl.IdnHost, adminServiceUrl, CimTransport.Https, CimAuthentication.Negotiate);

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex SourceName();

    [GeneratedRegex("^[A-Z0-9]{8}$")]
    private static partial Regex CollectionId();
}

/// <summary>A source as the API shows it, with its latest run.</summary>
public sealed record InventorySourceView(
    long Id,
    string Name,
    string AdminServiceUrl,
    string Credential,
    string? CertificateSha256,
    string[] CollectionIds,
    string EndpointTemplate,
    CimAuthentication Authentication,
    string? DeviceCredential,
    string[] Tags,
    string SyncCron,
    InventoryRemovalAction OnRemoved,
    bool Enabled,
    int Devices,
    InventorySyncRunView? LastRun,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>api.md's sync run, with who asked and when.</summary>
public sealed record InventorySyncRunView(
    long Id,
    long SourceId,
    InventorySyncStatus Status,
    InventorySyncTrigger Trigger,
    bool DryRun,
    string RequestedBy,
    DateTimeOffset RequestedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int Seen,
    int Created,
    int Updated,
    int Disabled,
    int Deleted,
    IReadOnlyList<InventorySkip> Skipped,
    string? Error)
{
    public static readonly Expression<Func<InventorySyncRun, InventorySyncRunView>> Projection = r => new InventorySyncRunView(
        r.Id, r.SourceId, r.Status, r.Trigger, r.DryRun, r.RequestedBy, r.RequestedAt, r.StartedAt, r.FinishedAt,
        r.Seen, r.Created, r.Updated, r.Disabled, r.Deleted, r.Skipped, r.Error);

    public static InventorySyncRunView From(InventorySyncRun r) => new(
        r.Id, r.SourceId, r.Status, r.Trigger, r.DryRun, r.RequestedBy, r.RequestedAt, r.StartedAt, r.FinishedAt,
        r.Seen, r.Created, r.Updated, r.Disabled, r.Deleted, r.Skipped, r.Error);
}

/// <summary>The body of <c>POST /{id}/sync</c>.</summary>
public sealed record SyncRequest(bool? DryRun);
