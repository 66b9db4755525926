using System.Security.Claims;
using System.Text.Json;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Audit;

namespace ProvisioningFleet.Api.Audit;

/// <summary>
/// Records who changed what. An entry is added to the caller's <see cref="FleetDbContext"/> and saved
/// by the caller's own SaveChanges, in the same transaction as the change it describes: a change
/// without its entry (or the reverse) cannot be committed. Never put a secret in <c>details</c>.
/// </summary>
public interface IAuditTrail
{
    void Record(FleetDbContext db, ClaimsPrincipal actor, string action, string target, object? details = null);

    /// <summary>For changes made by the service itself or on someone's behalf (a scheduled sweep, a job).</summary>
    void Record(FleetDbContext db, string actor, string action, string target, object? details = null);
}

internal sealed class AuditTrail(TimeProvider time) : IAuditTrail
{
    private static readonly JsonSerializerOptions DetailsJson = new(JsonSerializerDefaults.Web);

    public void Record(FleetDbContext db, ClaimsPrincipal actor, string action, string target, object? details = null) =>
        Record(db, actor.ActorName(), action, target, details);

    public void Record(FleetDbContext db, string actor, string action, string target, object? details = null) =>
        db.AuditEntries.Add(new AuditEntry
        {
            At = time.GetUtcNow(),
            Actor = actor,
            Action = action,
            Target = target,
            Details = details is null ? null : JsonSerializer.Serialize(details, DetailsJson),
        });
}
