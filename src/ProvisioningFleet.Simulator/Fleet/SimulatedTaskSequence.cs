namespace ProvisioningFleet.Simulator.Fleet;

/// <summary>
/// A <c>root\ccm\SoftMgmtAgent:CCM_TSExecutionRequest</c> instance. <see cref="State"/> is what the
/// simulator reports as the request's state; "Running" marks a task sequence in progress.
/// </summary>
public sealed record SimulatedTaskSequence(string RequestId, string ContentId, string AdvertisementId, string State)
{
    public const string Running = "Running";
    public const string Completed = "Completed";

    public bool IsRunning => string.Equals(State, Running, StringComparison.OrdinalIgnoreCase);

    public static SimulatedTaskSequence RunningUpgrade(string contentId = "PS100042") =>
        new($"{{{Guid.NewGuid().ToString().ToUpperInvariant()}}}", contentId, "PS12345A", Running);
}
