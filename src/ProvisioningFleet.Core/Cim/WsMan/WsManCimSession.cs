using System.Text.RegularExpressions;
using ProvisioningFleet.WsMan;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Cim.WsMan;

/// <summary>
/// <see cref="ICimSession"/> over our WS-Management client: WMI namespaces and classes become
/// ResourceURIs (<c>.../wmi/root/cimv2/Win32_Process</c>), WQL goes to the namespace's <c>*</c> with
/// the WQL dialect. Disposing returns the pooled client to its factory.
/// </summary>
internal sealed partial class WsManCimSession(WsManSessionPool.Lease lease) : ICimSession
{
    public Task<IReadOnlyList<CimInstance>> QueryAsync(string cimNamespace, string wql, int maxItems, CancellationToken cancellationToken) =>
        lease.Client.QueryAsync(WsManClient.WmiResourceUri(cimNamespace, "*"), wql, cancellationToken, ClassOf(wql), maxItems);

    public Task<CimInstance> GetAsync(
        string cimNamespace, string className, IReadOnlyDictionary<string, string> keys, CancellationToken cancellationToken) =>
        lease.Client.GetAsync(WsManClient.WmiResourceUri(cimNamespace, className), keys.Count == 0 ? null : keys, cancellationToken);

    public Task<CimMethodResult> InvokeAsync(
        string cimNamespace,
        string className,
        string methodName,
        IReadOnlyList<CimParameter> parameters,
        IReadOnlyDictionary<string, string>? instanceKeys,
        CancellationToken cancellationToken) =>
        lease.Client.InvokeAsync(
            WsManClient.WmiResourceUri(cimNamespace, className), methodName, parameters,
            instanceKeys is { Count: > 0 } ? instanceKeys : null, cancellationToken);

    public ValueTask DisposeAsync()
    {
        lease.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A projection comes back as XmlFragment without a class name; the FROM clause supplies it.</summary>
    internal static string? ClassOf(string wql)
    {
        var match = FromClause().Match(wql);
        return match.Success ? match.Groups[1].Value : null;
    }

    [GeneratedRegex(@"\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex FromClause();
}

/// <summary>A session that can never work (its target is misconfigured): every call fails the same way, nothing is contacted.</summary>
internal sealed class RefusedCimSession(CimException error) : ICimSession
{
    public Task<IReadOnlyList<CimInstance>> QueryAsync(string cimNamespace, string wql, int maxItems, CancellationToken cancellationToken) =>
        Task.FromException<IReadOnlyList<CimInstance>>(Copy());

    public Task<CimInstance> GetAsync(string cimNamespace, string className, IReadOnlyDictionary<string, string> keys, CancellationToken cancellationToken) =>
        Task.FromException<CimInstance>(Copy());

    public Task<CimMethodResult> InvokeAsync(
        string cimNamespace, string className, string methodName, IReadOnlyList<CimParameter> parameters,
        IReadOnlyDictionary<string, string>? instanceKeys, CancellationToken cancellationToken) =>
        Task.FromException<CimMethodResult>(Copy());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private CimException Copy() => new(error.Category, error.Message, error.Code, error.InnerException);
}
