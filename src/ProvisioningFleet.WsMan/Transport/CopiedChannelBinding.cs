using System.Runtime.InteropServices;
using System.Security.Authentication.ExtendedProtection;

namespace ProvisioningFleet.WsMan.Transport;

/// <summary>A channel binding copied out of a TLS connection, so it outlives that connection.</summary>
internal sealed class CopiedChannelBinding : ChannelBinding
{
    private readonly int _size;

    private CopiedChannelBinding(int size)
        : base(ownsHandle: true)
    {
        _size = size;
        SetHandle(Marshal.AllocHGlobal(size));
    }

    public override int Size => _size;

    public static CopiedChannelBinding Of(ChannelBinding binding)
    {
        var copy = new CopiedChannelBinding(binding.Size);
        var bytes = new byte[binding.Size];
        Marshal.Copy(binding.DangerousGetHandle(), bytes, 0, bytes.Length);
        Marshal.Copy(bytes, 0, copy.handle, bytes.Length);
        return copy;
    }

    protected override bool ReleaseHandle()
    {
        Marshal.FreeHGlobal(handle);
        return true;
    }
}
