using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Cim.Mi;

/// <summary>
/// Sorts a failure of the Windows CIM stack into the contract categories, from MI's native error code
/// and the Windows error code in its error data (WMI HRESULTs, WinRM client errors, RPC errors).
/// </summary>
internal static class MiErrors
{
    private static readonly Dictionary<long, CimErrorCategory> ByCode = new()
    {
        [0x8004100E] = CimErrorCategory.NotFound,        // WBEM_E_INVALID_NAMESPACE
        [0x80041010] = CimErrorCategory.NotFound,        // WBEM_E_INVALID_CLASS
        [0x80041003] = CimErrorCategory.AccessDenied,    // WBEM_E_ACCESS_DENIED
        [0x80070005] = CimErrorCategory.AccessDenied,    // E_ACCESSDENIED
        [5] = CimErrorCategory.AccessDenied,
        [0x80338126] = CimErrorCategory.Network,         // WinRM: cannot complete the operation (host unreachable)
        [0x800706BA] = CimErrorCategory.Network,         // RPC server unavailable (DCOM)
        [1722] = CimErrorCategory.Network,
        [0x80338029] = CimErrorCategory.Timeout,         // WinRM: operation timed out
        [0x800705B4] = CimErrorCategory.Timeout,         // ERROR_TIMEOUT
        [0x80338043] = CimErrorCategory.Tls,             // WinRM: server certificate not trusted
    };

    /// <param name="nativeErrorCode">MI's NativeErrorCode name (e.g. "InvalidNamespace").</param>
    /// <param name="windowsErrorCode">The <c>error_Code</c> of the error data, when there is one.</param>
    /// <param name="message">MI's message, kept as the exception's.</param>
    /// <param name="inner">The MI exception, when there is one.</param>
    public static CimException Map(string nativeErrorCode, long? windowsErrorCode, string message, Exception? inner = null)
    {
        var category = windowsErrorCode is { } code && ByCode.TryGetValue(code, out var known)
            ? known
            : nativeErrorCode switch
            {
                "InvalidNamespace" or "InvalidClass" => CimErrorCategory.NotFound,
                "AccessDenied" => CimErrorCategory.AccessDenied,
                "InvalidOperationTimeout" => CimErrorCategory.Timeout,
                _ => CimErrorCategory.Fault,
            };
        var detail = windowsErrorCode is { } c2 ? $" (MI {nativeErrorCode}, code {c2} (0x{c2:X8}))" : $" (MI {nativeErrorCode})";
        return new CimException(category, message + detail, windowsErrorCode, inner);
    }
}
