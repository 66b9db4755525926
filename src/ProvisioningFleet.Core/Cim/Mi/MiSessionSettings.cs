namespace ProvisioningFleet.Core.Cim.Mi;

/// <summary>
/// Settings of the Windows CIM stack adapter, bound from <c>Fleet:WinRm:Mi</c>; the API host takes
/// OperationTimeout and AllowUnencrypted from <c>Fleet:WinRm</c> unless that section sets them. DCOM
/// reaches machines without WinRM; WS-Man uses the same listener as our own client.
/// </summary>
public sealed class MiSessionSettings
{
    public const string Section = "Fleet:WinRm:Mi";

    public MiProtocol Protocol { get; set; } = MiProtocol.WsMan;

    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Allows Basic over plain HTTP, as <c>Fleet:WinRm:AllowUnencrypted</c> does for the WS-Man adapter.</summary>
    public bool AllowUnencrypted { get; set; }
}

public enum MiProtocol
{
    WsMan,
    Dcom,
}
