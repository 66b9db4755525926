namespace ProvisioningFleet.Data;

/// <summary>Column lengths that the model declares and the API validates against: one number each.</summary>
public static class FleetLimits
{
    /// <summary>A DNS name's longest text form.</summary>
    public const int HostName = 253;

    public const int Tag = 64;

    /// <summary>Room for <c>HTTP/</c>, a 253-character host name and a realm.</summary>
    public const int ServicePrincipalName = 512;

    public const int Justification = 2000;

    /// <summary>Error texts from remote machines are cut to this rather than refused.</summary>
    public const int ErrorMessage = 4000;

    /// <summary>The scheduler tasks a client suppresses while provisioning, as the registry holds them.</summary>
    public const int SystemTaskExcludes = 4000;

    public static string? Truncate(string? text, int length) => text is null || text.Length <= length ? text : text[..length];
}
