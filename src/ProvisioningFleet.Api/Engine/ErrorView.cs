using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Api.Engine;

/// <summary>Why a probe or a fix failed: <c>code</c> keeps the WS-Management or WMI number where there is one.</summary>
public sealed record ErrorView(CimErrorCategory Category, string? Message, long? Code);
