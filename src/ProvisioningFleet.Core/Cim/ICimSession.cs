using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Cim;

/// <summary>
/// What the provisioning engine needs of a CIM stack on one device. Implemented over our WS-Man
/// client (portable) and over Microsoft.Management.Infrastructure (Windows hosts, WS-Man or DCOM).
/// Every call throws <see cref="CimException"/> with a contract category on failure.
/// </summary>
public interface ICimSession : IAsyncDisposable
{
    /// <summary>
    /// A WQL query in a namespace such as <c>root/cimv2</c>. <paramref name="maxItems"/> is how many
    /// instances the caller can use: at most that many come back, and the rest are never read, so a
    /// device answering with endless instances costs bounded memory.
    /// </summary>
    Task<IReadOnlyList<CimInstance>> QueryAsync(string cimNamespace, string wql, int maxItems, CancellationToken cancellationToken);

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
