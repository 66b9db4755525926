using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Probing;

/// <summary>Counts round trips at the session edge, so that the figure reported cannot drift from what was sent. Does not own the session.</summary>
internal sealed class CountingSession(ICimSession inner) : ICimSession
{
    public int Count { get; private set; }

    public Task<IReadOnlyList<CimInstance>> QueryAsync(string cimNamespace, string wql, int maxItems, CancellationToken cancellationToken)
    {
        Count++;
        return inner.QueryAsync(cimNamespace, wql, maxItems, cancellationToken);
    }

    public Task<CimInstance> GetAsync(string cimNamespace, string className, IReadOnlyDictionary<string, string> keys, CancellationToken cancellationToken)
    {
        Count++;
        return inner.GetAsync(cimNamespace, className, keys, cancellationToken);
    }

    public Task<CimMethodResult> InvokeAsync(string cimNamespace, string className, string methodName, IReadOnlyList<CimParameter> parameters,
        IReadOnlyDictionary<string, string>? instanceKeys, CancellationToken cancellationToken)
    {
        Count++;
        return inner.InvokeAsync(cimNamespace, className, methodName, parameters, instanceKeys, cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
