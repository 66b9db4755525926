namespace ProvisioningFleet.Data.Policy;

/// <summary>The fleet's remediation policy: a single row (id 1), created with the defaults of api.md.</summary>
public class FleetPolicy
{
    public const int SingletonId = 1;

    public int Id { get; set; } = SingletonId;
    public bool AutoRemediate { get; set; } = true;
    public int? RemediateAfterMinutes { get; set; }
    public int GraceMinutes { get; set; } = 60;
    public int MaxRemediationsPerSweep { get; set; } = 500;
    public string SweepCron { get; set; } = "0 * * * *";
    public bool TriggerPolicyRetrieval { get; set; } = true;
    public int HistoryRetentionDays { get; set; } = 180;
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}
