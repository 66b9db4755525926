namespace ProvisioningFleet.Data.Audit;

/// <summary>One change made by someone: who, what, to what, when. <see cref="Details"/> is a JSON object.</summary>
public class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public string Actor { get; set; } = "";
    public string Action { get; set; } = "";
    public string Target { get; set; } = "";
    public string? Details { get; set; }
}
