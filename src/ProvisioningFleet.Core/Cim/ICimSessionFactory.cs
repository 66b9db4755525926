namespace ProvisioningFleet.Core.Cim;

/// <summary>Opens a session to one device. Sessions may be pooled per endpoint and credential by the implementation.</summary>
public interface ICimSessionFactory
{
    ICimSession Open(CimTarget target);
}
