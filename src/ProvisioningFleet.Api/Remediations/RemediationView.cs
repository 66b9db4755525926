using System.Linq.Expressions;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Data.Remediations;

namespace ProvisioningFleet.Api.Remediations;

/// <summary>A remediation as the contract shows it (api.md, "Remediation view").</summary>
public sealed record RemediationView(
    long Id,
    long DeviceId,
    string HostName,
    RemediationTrigger Trigger,
    string Actor,
    long? SweepId,
    DateTimeOffset RequestedAt,
    DateTimeOffset? FinishedAt,
    RemediationOutcome Outcome,
    RemediationSkipReason? SkipReason,
    string? Justification,
    bool Override,
    bool IgnoreTaskSequence,
    bool Verified,
    ErrorView? Error,
    string? SystemTaskExcludesBefore = null,
    string? SystemTaskExcludesAfter = null)
{
    /// <summary>For queries: translated to SQL, so lists read only the columns they show.</summary>
    public static readonly Expression<Func<Remediation, RemediationView>> Projection = r => new RemediationView(
        r.Id, r.DeviceId, r.HostName, r.Trigger, r.Actor, r.SweepId, r.RequestedAt, r.FinishedAt, r.Outcome, r.SkipReason,
        r.Justification, r.Override, r.IgnoreTaskSequence, r.Verified,
        r.ErrorCategory == null ? null : new ErrorView(r.ErrorCategory.Value, r.ErrorMessage, r.ErrorCode),
        r.SystemTaskExcludesBefore, r.SystemTaskExcludesAfter);

    private static readonly Func<Remediation, RemediationView> Compiled = Projection.Compile();

    public static RemediationView From(Remediation remediation) => Compiled(remediation);
}
