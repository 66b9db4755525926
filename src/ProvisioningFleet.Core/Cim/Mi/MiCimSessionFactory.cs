using ProvisioningFleet.Core.Cim.WsMan;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Cim.Mi;

/// <summary>
/// Opens sessions through Microsoft.Management.Infrastructure, WS-Man or DCOM by configuration. MI
/// runs only on Windows (its package has no native libmi elsewhere), so off Windows every session
/// refuses with a Configuration error and nothing is contacted. Like the WS-Man factory, Open never
/// throws: a target that cannot work yields a session whose calls fail with the reason.
/// </summary>
public sealed class MiCimSessionFactory(MiSessionSettings settings) : ICimSessionFactory
{
    public ICimSession Open(CimTarget target)
    {
        if (!OperatingSystem.IsWindows())
        {
            return new RefusedCimSession(new CimException(CimErrorCategory.Configuration,
                "The Windows CIM stack (Microsoft.Management.Infrastructure) runs only on Windows hosts; use the WS-Man session factory here."));
        }

        try
        {
            return new MiCimSession(MiSessionPlan.For(target, settings));
        }
        catch (CimException e)
        {
            return new RefusedCimSession(e);
        }
    }
}
