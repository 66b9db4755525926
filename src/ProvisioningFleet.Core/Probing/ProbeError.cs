using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Probing;

/// <summary>Why a device could not be read, in the contract's error categories; <see cref="Code"/> keeps the most specific number known.</summary>
public sealed record ProbeError(CimErrorCategory Category, string Message, long? Code)
{
    public static ProbeError From(CimException exception) => new(exception.Category, exception.Message, exception.Code);
}
