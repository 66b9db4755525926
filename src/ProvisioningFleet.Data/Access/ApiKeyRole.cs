namespace ProvisioningFleet.Data.Access;

/// <summary>What a caller may do (api.md, "Roles"); each role includes the ones before it.</summary>
public enum ApiKeyRole
{
    Reader,
    Operator,
    Admin,
}
