using System.Runtime.CompilerServices;

// The CIM adapters are tested beside the WS-Man client they wrap, against the same simulator.
[assembly: InternalsVisibleTo("ProvisioningFleet.WsMan.Tests")]
