using ProvisioningFleet.WsMan;

namespace ProvisioningFleet.Bench.WsMan;

/// <summary><c>DOMAIN\user:password</c> or <c>user:password</c>, as the simulator's own <c>--user</c> takes it.</summary>
internal static class UserOption
{
    public static WsManCredential Parse(string value)
    {
        var colon = value.IndexOf(':');
        if (colon <= 0)
        {
            throw new FormatException("--user is [DOMAIN\\]user:password.");
        }

        var name = value[..colon];
        var slash = name.IndexOf('\\');
        return slash > 0
            ? new WsManCredential(name[(slash + 1)..], value[(colon + 1)..], name[..slash])
            : new WsManCredential(name, value[(colon + 1)..]);
    }
}
