namespace ProvisioningFleet.Simulator.Fleet;

/// <summary>
/// How <c>SMS_Client.SetClientProvisioningMode</c> is answered. Leaving provisioning mode restarts the
/// client's own service, so on a real client the call can lose its answer after the change took effect.
/// </summary>
public enum FixCallAnswer
{
    /// <summary>An output element without a ReturnValue, as the simulator always answered.</summary>
    Normal,
    /// <summary>A WMI fault (RPC server unavailable) after the change took effect.</summary>
    Fault,
    /// <summary>The connection is dropped without an answer after the change took effect.</summary>
    DropConnection,
}

/// <summary>What the fix leaves in <c>HKLM\SOFTWARE\Microsoft\CCM\CcmExec</c> besides the mode.</summary>
public enum RegistryAfterFix
{
    /// <summary><c>ProvisioningMode</c> reads "false".</summary>
    Written,
    /// <summary>The <c>ProvisioningMode</c> value is gone.</summary>
    ValueDeleted,
    /// <summary>The whole CcmExec key is gone (root\ccm stays).</summary>
    KeyDeleted,
}
