namespace ProvisioningFleet.Simulator.Fleet;

/// <summary>How a simulated device reacts to a WS-Management request, before any CIM is evaluated.</summary>
public enum DeviceBehavior
{
    /// <summary>Answers like a healthy WinRM listener.</summary>
    Normal,
    /// <summary>Aborts the connection without an HTTP answer (a host that is down or firewalled).</summary>
    RefuseConnections,
    /// <summary>Never answers; the client has to give up by its own timeout.</summary>
    Silent,
    /// <summary>Refuses every credential with 401, as Windows does for a user that may not connect.</summary>
    AccessDenied,
    /// <summary>Answers 200 with a body that is not a WS-Management envelope.</summary>
    Malformed,
    /// <summary>Sends the headers and the start of a reply, then stalls until the client gives up.</summary>
    Stall,
}
