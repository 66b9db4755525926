namespace ProvisioningFleet.Simulator.Scenarios;

/// <summary>
/// The shape of a generated fleet: how many devices and which share (0..1) of them is in each
/// condition. The rest are healthy. Shares are drawn per device from a seeded generator, so the
/// same mix and seed always give the same fleet.
/// </summary>
public sealed record FleetMix
{
    public int Devices { get; init; } = 1000;
    /// <summary>In provisioning mode past their own timeout: the ones to fix.</summary>
    public double Overdue { get; init; } = 0.02;
    /// <summary>In provisioning mode with a task sequence running: never to be touched.</summary>
    public double TsRunning { get; init; } = 0.01;
    /// <summary>Refusing connections or silent.</summary>
    public double Unreachable { get; init; } = 0.01;
    /// <summary>No ConfigMgr client.</summary>
    public double NoClient { get; init; } = 0.005;
    /// <summary>In provisioning mode but still inside their timeout window.</summary>
    public double Provisioning { get; init; } = 0.01;
    public double AccessDenied { get; init; } = 0.002;
    /// <summary>Answering a third of their requests with WMI faults.</summary>
    public double Flaky { get; init; } = 0.002;
    /// <summary>
    /// Past their timeout with the execution request a sequence that died in a restart leaves behind
    /// (Running, CompletionState Failure) and no TSManager.exe: to be fixed.
    /// </summary>
    public double DeadTaskSequence { get; init; }
    /// <summary>
    /// In provisioning mode with a running execution request without a completion state and no
    /// TSManager.exe, as a sequence between two reboots looks: never to be touched, overdue or not.
    /// </summary>
    public double BetweenReboots { get; init; }
    public int Seed { get; init; } = 1;
    public string Domain { get; init; } = "corp.example";
    public string HostPrefix { get; init; } = "pc-";

    public void Validate()
    {
        if (Devices is < 0 or > 1_000_000)
        {
            throw new ArgumentException("devices must be between 0 and 1,000,000.");
        }
        double[] shares = [Overdue, TsRunning, Unreachable, NoClient, Provisioning, AccessDenied, Flaky, DeadTaskSequence, BetweenReboots];
        if (shares.Any(s => s is < 0 or > 1 || double.IsNaN(s)) || shares.Sum() > 1.000001)
        {
            throw new ArgumentException("Each share must be between 0 and 1, and together at most 1 (100%).");
        }
        if (string.IsNullOrWhiteSpace(HostPrefix) || HostPrefix.IndexOfAny(['/', ' ', ',', '\\', ';']) >= 0)
        {
            throw new ArgumentException("hostPrefix must be a plain host-name start.");
        }
    }
}
