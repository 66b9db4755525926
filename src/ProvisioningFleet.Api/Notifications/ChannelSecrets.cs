using Microsoft.AspNetCore.DataProtection;

namespace ProvisioningFleet.Api.Notifications;

/// <summary>
/// Encrypts what lets someone post as the service (a webhook's signing secret, a Slack or Teams webhook
/// URL) with the same Data Protection key ring as credential passwords.
/// </summary>
public sealed class ChannelSecrets(IDataProtectionProvider dataProtection)
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("ProvisioningFleet.Notifications.ChannelSecret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Reveal(string protectedSecret) => _protector.Unprotect(protectedSecret);

    /// <summary>What may be shown of a URL that is itself a secret: its scheme and host.</summary>
    public static string Redact(Uri url) => $"{url.GetLeftPart(UriPartial.Authority)}/…";
}
