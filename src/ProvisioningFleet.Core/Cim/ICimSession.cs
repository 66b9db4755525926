using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Cim;

/// <summary>
/// What the provisioning engine needs of a CIM stack on one device. Implemented over our WS-Man
/// client (portable) and over Microsoft.Management.Infrastructure (Windows hosts, WS-Man or DCOM).
/// Every call throws <see cref="CimException"/> with a contract category on failure.
/// </summary>
public interface ICimSession : IAsyncDisposable
{
    /// <summary>A WQL query in a namespace such as <c>root/cimv2</c>.</summary>
    Task<IReadOnlyList<CimInstance>> QueryAsync(string cimNamespace, string wql, CancellationToken cancellationToken);

    /// <summary>One instance by its keys (an empty key set for singletons).</summary>
    Task<CimInstance> GetAsync(string cimNamespace, string className, IReadOnlyDictionary<string, string> keys, CancellationToken cancellationToken);

    /// <summary>A static method when <paramref name="instanceKeys"/> is null, else an instance method.</summary>
    Task<CimMethodResult> InvokeAsync(
        string cimNamespace,
        string className,
        string methodName,
        IReadOnlyList<CimParameter> parameters,
        IReadOnlyDictionary<string, string>? instanceKeys,
        CancellationToken cancellationToken);
}
