using CoreState = ProvisioningFleet.Core.Verdicts.DeviceState;
using DataState = ProvisioningFleet.Data.Devices.DeviceState;

namespace ProvisioningFleet.Api.Engine;

/// <summary>
/// Core judges with its own state enum (Core cannot see Data); both spell the contract's names, so the
/// conversion goes by name and fails loudly if they ever drift apart.
/// </summary>
public static class StoredState
{
    public static DataState ToStored(this CoreState state) => Enum.Parse<DataState>(state.ToString());
}
