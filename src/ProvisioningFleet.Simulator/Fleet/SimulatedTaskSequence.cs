namespace ProvisioningFleet.Simulator.Fleet;

/// <summary>
/// A <c>root\ccm\SoftMgmtAgent:CCM_TSExecutionRequest</c> instance. <see cref="State"/> is what the
/// simulator reports as the request's state; "Running" marks a task sequence in progress, unless
/// <see cref="CompletionState"/> is "Failure": the request a sequence that died in a restart leaves
/// behind (domain.md, "Never break a live deployment"). Null <see cref="CompletionState"/> is not set.
/// </summary>
public sealed record SimulatedTaskSequence(string RequestId, string ContentId, string AdvertisementId, string State, string? CompletionState = null)
{
    public const string Running = "Running";
    public const string Completed = "Completed";
    public const string Failure = "Failure";
    public const string Success = "Success";

    public bool IsRunning => string.Equals(State, Running, StringComparison.OrdinalIgnoreCase);

    /// <summary>Still marked running although it completed with a failure: nothing runs any more.</summary>
    public bool IsDead => IsRunning && string.Equals(CompletionState, Failure, StringComparison.OrdinalIgnoreCase);

    public static SimulatedTaskSequence RunningUpgrade(string contentId = "PS100042") =>
        new($"{{{Guid.NewGuid().ToString().ToUpperInvariant()}}}", contentId, "PS12345A", Running);

    /// <summary>The leftover of a sequence that died in a restart: Running, CompletionState Failure.</summary>
    public static SimulatedTaskSequence Dead(string contentId = "PS100042") => RunningUpgrade(contentId) with { CompletionState = Failure };
}
