namespace ProvisioningFleet.Api.Access;

/// <summary>How many failed key checks (wrong API keys, wrong sign-ins) one client address may make per window.</summary>
public sealed class KeyCheckLimitOptions
{
    public const string Section = "Fleet:KeyCheckLimit";

    /// <summary>Failures allowed per <see cref="Window"/>; past them every key check from the address gets 429 until the window ends.</summary>
    public int FailuresPerWindow { get; set; } = 10;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
