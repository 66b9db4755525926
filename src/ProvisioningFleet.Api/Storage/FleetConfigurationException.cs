namespace ProvisioningFleet.Api.Storage;

/// <summary>A setting is missing or wrong: start-up stops with this message, meant for the operator.</summary>
public sealed class FleetConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
