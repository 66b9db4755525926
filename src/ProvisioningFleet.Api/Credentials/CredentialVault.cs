using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.DataProtection;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.Devices;

namespace ProvisioningFleet.Api.Credentials;

/// <summary>
/// Encrypts credential passwords for storage and turns a device into a <see cref="CimTarget"/> for a
/// call. The plain password exists only in the returned <see cref="CimCredential"/>, in memory.
/// </summary>
public sealed class CredentialVault(IDataProtectionProvider dataProtection)
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("ProvisioningFleet.Credentials.Password.v1");

    public string Protect(string password) => _protector.Protect(password);

    // Decrypted once per loaded credential row, not once per device: a sweep shard loads its devices with identity
    // resolution, so the 500 devices sharing a credential share one instance, and the plain password lives no longer
    // than that instance (the shard's device list). The stored ciphertext is checked, so a changed row is decrypted anew.
    private readonly ConditionalWeakTable<Credential, Revealed> _revealed = new();

    private sealed record Revealed(string ProtectedPassword, CimCredential Credential);

    public CimCredential Reveal(Credential credential)
    {
        if (_revealed.TryGetValue(credential, out var revealed)
            && revealed.ProtectedPassword == credential.ProtectedPassword
            && revealed.Credential.UserName == credential.UserName
            && revealed.Credential.Domain == credential.Domain)
        {
            return revealed.Credential;
        }

        var plain = new CimCredential(credential.UserName, _protector.Unprotect(credential.ProtectedPassword), credential.Domain);
        _revealed.AddOrUpdate(credential, new Revealed(credential.ProtectedPassword, plain));
        return plain;
    }

    /// <summary>How to reach <paramref name="device"/>, with its credential (if any) decrypted.</summary>
    public CimTarget TargetFor(Device device, Credential? credential)
    {
        if (device.CredentialId is not null && credential?.Id != device.CredentialId)
        {
            throw new ArgumentException($"Device {device.HostName} uses credential {device.CredentialId}, not {credential?.Id.ToString() ?? "none"}.", nameof(credential));
        }

        return new CimTarget(device.HostName, new Uri(device.Endpoint), device.Transport, device.Authentication,
            credential is null ? null : Reveal(credential), device.ServicePrincipalName);
    }
}
