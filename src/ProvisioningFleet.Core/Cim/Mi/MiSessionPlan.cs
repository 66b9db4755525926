using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Cim.Mi;

/// <summary>
/// What a Microsoft.Management.Infrastructure session for one target must look like, decided without
/// touching MI (which cannot run off Windows) so the decision can be tested anywhere.
/// </summary>
internal sealed record MiSessionPlan(
    MiProtocol Protocol,
    string ComputerName,
    uint? Port,
    bool UseSsl,
    bool NoEncryption,
    string? HttpUrlPrefix,
    MiAuthenticationMechanism Mechanism,
    CimCredential? Credential,
    TimeSpan OperationTimeout)
{
    /// <exception cref="CimException">Configuration: the target can never work with this protocol.</exception>
    public static MiSessionPlan For(CimTarget target, MiSessionSettings settings)
    {
        if (settings.Protocol == MiProtocol.Dcom)
        {
            if (target.Authentication == CimAuthentication.Basic)
            {
                throw new CimException(CimErrorCategory.Configuration, $"{target.HostName}: DCOM has no Basic authentication; use Negotiate, NTLM or Kerberos.");
            }

            return new MiSessionPlan(MiProtocol.Dcom, target.HostName, null, false, false, null, MechanismFor(target.Authentication), target.Credential,
                settings.OperationTimeout);
        }

        var https = target.Transport == CimTransport.Https;
        var noEncryption = false;
        if (target.Authentication == CimAuthentication.Basic && !https)
        {
            if (!settings.AllowUnencrypted)
            {
                throw new CimException(CimErrorCategory.Configuration,
                    $"{target.HostName}: Basic authentication over plain HTTP would send the password in clear; use HTTPS or allow unencrypted traffic explicitly.");
            }

            noEncryption = true;
        }

        if (target.Credential is null && target.Authentication is CimAuthentication.Basic or CimAuthentication.Ntlm)
        {
            throw new CimException(CimErrorCategory.Configuration, $"{target.HostName}: {target.Authentication} authentication needs a credential.");
        }

        var path = target.Endpoint.AbsolutePath.Trim('/');
        return new MiSessionPlan(
            MiProtocol.WsMan,
            target.Endpoint.IdnHost,
            (uint)target.Endpoint.Port,
            https,
            noEncryption,
            path.Length == 0 || path.Equals("wsman", StringComparison.OrdinalIgnoreCase) ? null : path,
            MechanismFor(target.Authentication),
            target.Credential,
            settings.OperationTimeout);
    }

    private static MiAuthenticationMechanism MechanismFor(CimAuthentication authentication) => authentication switch
    {
        CimAuthentication.Basic => MiAuthenticationMechanism.Basic,
        CimAuthentication.Ntlm => MiAuthenticationMechanism.NtlmDomain,
        CimAuthentication.Kerberos => MiAuthenticationMechanism.Kerberos,
        _ => MiAuthenticationMechanism.Negotiate,
    };
}

/// <summary>The subset of MI's PasswordAuthenticationMechanism this service uses, by the same names.</summary>
internal enum MiAuthenticationMechanism
{
    Negotiate,
    NtlmDomain,
    Kerberos,
    Basic,
}
