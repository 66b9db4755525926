namespace ProvisioningFleet.WsMan.Cim;

/// <summary>The <c>p:Method_OUTPUT</c> of an Invoke: ReturnValue (nil when the provider sent none) and out-parameters.</summary>
public sealed class CimMethodResult(CimValue returnValue, IReadOnlyDictionary<string, CimValue> outParameters)
{
    public CimValue ReturnValue { get; } = returnValue;

    public IReadOnlyDictionary<string, CimValue> OutParameters { get; } =
        outParameters is Dictionary<string, CimValue> { Comparer: var comparer } dictionary && comparer == StringComparer.OrdinalIgnoreCase
            ? dictionary
            : new Dictionary<string, CimValue>(outParameters, StringComparer.OrdinalIgnoreCase);

    public CimValue this[string name] => OutParameters.TryGetValue(name, out var v) ? v : CimValue.Null;
}
