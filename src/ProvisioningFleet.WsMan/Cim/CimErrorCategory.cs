namespace ProvisioningFleet.WsMan.Cim;

/// <summary>The error categories of the service contract (api.md), decided where the failure is understood.</summary>
public enum CimErrorCategory
{
    Network,
    Timeout,
    Tls,
    AccessDenied,
    NotFound,
    Protocol,
    Fault,
    Configuration,
}
