using System.Runtime.Versioning;
using System.Security;
using Microsoft.Management.Infrastructure;
using Microsoft.Management.Infrastructure.Options;
using OurCim = ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Cim.Mi;

/// <summary>
/// <see cref="ICimSession"/> over Microsoft.Management.Infrastructure, the Windows CIM stack: WS-Man or
/// DCOM as planned. MI's calls are synchronous; each runs on the thread pool, bounded by MI's own
/// operation timeout and the caller's token. The MI session is created on first use.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class MiCimSession(MiSessionPlan plan) : ICimSession
{
    private const string Wql = "WQL";
    private readonly Lock _gate = new();
    private CimSession? _session;

    public Task<IReadOnlyList<OurCim.CimInstance>> QueryAsync(string cimNamespace, string wql, int maxItems, CancellationToken cancellationToken) =>
        RunAsync(options => (IReadOnlyList<OurCim.CimInstance>)Session().QueryInstances(Namespace(cimNamespace), Wql, wql, options)
            .Take(maxItems).Select(ToOurs).ToList(), cancellationToken);

    public Task<OurCim.CimInstance> GetAsync(
        string cimNamespace, string className, IReadOnlyDictionary<string, string> keys, CancellationToken cancellationToken) =>
        RunAsync(options =>
        {
            using var id = InstanceId(cimNamespace, className, keys);
            return ToOurs(Session().GetInstance(Namespace(cimNamespace), id, options));
        }, cancellationToken);

    public Task<OurCim.CimMethodResult> InvokeAsync(
        string cimNamespace,
        string className,
        string methodName,
        IReadOnlyList<OurCim.CimParameter> parameters,
        IReadOnlyDictionary<string, string>? instanceKeys,
        CancellationToken cancellationToken) =>
        RunAsync(options =>
        {
            var arguments = new CimMethodParametersCollection();
            foreach (var parameter in parameters)
            {
                var value = MiValues.ToMiValue(parameter.Value);
                arguments.Add(value is null
                    ? CimMethodParameter.Create(parameter.Name, null, CimType.String, CimFlags.In | CimFlags.NullValue)
                    : CimMethodParameter.Create(parameter.Name, value, CimFlags.In));
            }

            using var result = instanceKeys is { Count: > 0 }
                ? Session().InvokeMethod(Namespace(cimNamespace), InstanceId(cimNamespace, className, instanceKeys), methodName, arguments, options)
                : Session().InvokeMethod(Namespace(cimNamespace), className, methodName, arguments, options);
            var outParameters = new Dictionary<string, OurCim.CimValue>(StringComparer.OrdinalIgnoreCase);
            foreach (var parameter in result.OutParameters)
            {
                outParameters[parameter.Name] = MiValues.ToCimValue(parameter.Value, Embedded);
            }

            return new OurCim.CimMethodResult(MiValues.ToCimValue(result.ReturnValue?.Value, Embedded), outParameters);
        }, cancellationToken);

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _session?.Dispose();
            _session = null;
        }

        return ValueTask.CompletedTask;
    }

    private async Task<T> RunAsync<T>(Func<CimOperationOptions, T> operation, CancellationToken cancellationToken)
    {
        using var options = new CimOperationOptions { Timeout = plan.OperationTimeout, CancellationToken = cancellationToken };
        try
        {
            return await Task.Run(() => operation(options), cancellationToken).ConfigureAwait(false);
        }
        catch (CimException e)
        {
            var code = e.ErrorData?.CimInstanceProperties["error_Code"]?.Value is { } raw ? Convert.ToInt64(raw, System.Globalization.CultureInfo.InvariantCulture) : (long?)null;
            throw MiErrors.Map(e.NativeErrorCode.ToString(), code ?? (e.HResult != 0 ? (uint)e.HResult : null), e.Message, e);
        }
    }

    private CimSession Session()
    {
        lock (_gate)
        {
            return _session ??= CimSession.Create(plan.ComputerName, Options());
        }
    }

    private CimSessionOptions Options()
    {
        CimSessionOptions options;
        if (plan.Protocol == MiProtocol.Dcom)
        {
            options = new DComSessionOptions { PacketPrivacy = true, PacketIntegrity = true, Impersonation = ImpersonationType.Impersonate };
        }
        else
        {
            var wsman = new WSManSessionOptions { UseSsl = plan.UseSsl, NoEncryption = plan.NoEncryption };
            if (plan.Port is { } port)
            {
                wsman.DestinationPort = port;
            }

            if (plan.HttpUrlPrefix is { } prefix)
            {
                wsman.HttpUrlPrefix = new Uri(prefix, UriKind.Relative);
            }

            options = wsman;
        }

        options.Timeout = plan.OperationTimeout;
        if (plan.Credential is { } credential)
        {
            using var password = new SecureString();
            foreach (var c in credential.Password)
            {
                password.AppendChar(c);
            }

            options.AddDestinationCredentials(new Microsoft.Management.Infrastructure.Options.CimCredential(
                Enum.Parse<PasswordAuthenticationMechanism>(plan.Mechanism.ToString()), credential.Domain ?? string.Empty, credential.UserName, password));
        }

        return options;
    }

    private static string Namespace(string cimNamespace) => cimNamespace.Replace('/', '\\');

    private static CimInstance InstanceId(string cimNamespace, string className, IReadOnlyDictionary<string, string> keys)
    {
        var id = new CimInstance(className, Namespace(cimNamespace));
        foreach (var (name, value) in keys)
        {
            id.CimInstanceProperties.Add(CimProperty.Create(name, value, CimFlags.Key));
        }

        return id;
    }

    private static OurCim.CimInstance ToOurs(CimInstance instance)
    {
        using (instance)
        {
            var properties = new Dictionary<string, OurCim.CimValue>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in instance.CimInstanceProperties)
            {
                properties[property.Name] = MiValues.ToCimValue(property.Value, Embedded);
            }

            return new OurCim.CimInstance(instance.CimSystemProperties.ClassName, properties);
        }
    }

    private static OurCim.CimInstance? Embedded(object value) => value is CimInstance instance ? ToOurs(instance) : null;
}
