using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Devices;

namespace ProvisioningFleet.Api.Engine;

/// <summary>Probes one device on request and stores the verdict (the manual path; sweeps batch their own).</summary>
public sealed class DeviceVerdicts(IDbContextFactory<FleetDbContext> contexts, DeviceProbing probing)
{
    public async Task<Verdict> ProbeAndRecordAsync(Device device, CancellationToken cancellationToken)
    {
        VerdictPolicy policy;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            var stored = await db.Policies.AsNoTracking().SingleAsync(cancellationToken);
            policy = new VerdictPolicy(stored.RemediateAfterMinutes, stored.GraceMinutes);
        }

        var verdict = await probing.ProbeAsync(device, device.Credential, policy, cancellationToken);
        await RecordAsync(device.Id, verdict, CancellationToken.None);
        return verdict;
    }

    public async Task RecordAsync(long deviceId, Verdict verdict, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await VerdictRecorder.RecordAsync(db, [new DeviceVerdict(deviceId, verdict)], null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
