using System.Linq.Expressions;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Remediations;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Devices;

namespace ProvisioningFleet.Api.Devices;

/// <summary>
/// A device as the contract shows it (api.md, "The device view"); the verdict fields are null until the first probe.
/// <see cref="Source"/> names the inventory source that brought it (null for a device created by hand).
/// </summary>
public sealed record DeviceView(
    long Id,
    string HostName,
    string Endpoint,
    CimTransport Transport,
    CimAuthentication Authentication,
    string? Credential,
    string? Spn,
    string[] Tags,
    bool Enabled,
    bool RemediationExcluded,
    DeviceState State,
    bool? InProvisioningMode,
    DateTimeOffset? ProvisioningEnabledAt,
    int? ProvisioningMaxMinutes,
    int? EffectiveTimeoutMinutes,
    DateTimeOffset? OverdueAt,
    int? ClockSkewSeconds,
    bool? TaskSequenceRunning,
    string? ClientId,
    DateTimeOffset? LastCheckedAt,
    ErrorView? LastError,
    RemediationView? LastRemediation,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? Source,
    string? ExpectedClientId,
    string[]? TaskSequenceSignals = null)
{
    /// <summary>For queries: one SQL statement with the credential's name and the last remediation joined in.</summary>
    public static readonly Expression<Func<Device, DeviceView>> Projection = d => new DeviceView(
        d.Id, d.HostName, d.Endpoint, d.Transport, d.Authentication,
        d.Credential == null ? null : d.Credential.Name,
        d.ServicePrincipalName,
        d.Tags, d.Enabled, d.RemediationExcluded, d.State, d.InProvisioningMode, d.ProvisioningEnabledAt,
        d.ProvisioningMaxMinutes, d.EffectiveTimeoutMinutes, d.OverdueAt, d.ClockSkewSeconds, d.TaskSequenceRunning,
        d.ClientId, d.LastCheckedAt,
        d.LastErrorCategory == null ? null : new ErrorView(d.LastErrorCategory.Value, d.LastErrorMessage, d.LastErrorCode),
        d.LastRemediation == null
            ? null
            : new RemediationView(
                d.LastRemediation.Id, d.LastRemediation.DeviceId, d.LastRemediation.HostName, d.LastRemediation.Trigger,
                d.LastRemediation.Actor, d.LastRemediation.SweepId, d.LastRemediation.RequestedAt, d.LastRemediation.FinishedAt,
                d.LastRemediation.Outcome, d.LastRemediation.SkipReason, d.LastRemediation.Justification, d.LastRemediation.Override,
                d.LastRemediation.IgnoreTaskSequence, d.LastRemediation.Verified,
                d.LastRemediation.ErrorCategory == null
                    ? null
                    : new ErrorView(d.LastRemediation.ErrorCategory.Value, d.LastRemediation.ErrorMessage, d.LastRemediation.ErrorCode),
                d.LastRemediation.SystemTaskExcludesBefore, d.LastRemediation.SystemTaskExcludesAfter),
        d.CreatedAt, d.UpdatedAt,
        d.InventorySource == null ? null : d.InventorySource.Name,
        d.ExpectedClientId,
        d.TaskSequenceSignals);
}
