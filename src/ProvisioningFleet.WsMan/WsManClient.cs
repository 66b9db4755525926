using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProvisioningFleet.WsMan.Cim;
using ProvisioningFleet.WsMan.Protocol;
using ProvisioningFleet.WsMan.Transport;

namespace ProvisioningFleet.WsMan;

/// <summary>
/// A WS-Management client for one endpoint and credential (DSP0226 with the [MS-WSMV] extensions that
/// Windows' WinRM service requires). Safe for concurrent use; with NTLM or Negotiate the calls are
/// sent one after another on the session's own connection. Every failure is a
/// <see cref="CimException"/>; cancelling <c>cancellationToken</c> (a device deadline) throws
/// <see cref="OperationCanceledException"/>, while the per-operation limit
/// (<see cref="WsManClientOptions.OperationTimeout"/> plus grace) throws a Timeout CimException.
/// </summary>
public sealed class WsManClient : IAsyncDisposable
{
    private readonly WsManClientOptions _options;
    private readonly WsManTransport _transport;

    /// <exception cref="CimException">Configuration: the options can never work (e.g. Basic over HTTP without AllowUnencrypted).</exception>
    public WsManClient(WsManClientOptions options, ILogger<WsManClient>? logger = null)
    {
        _options = options;
        _transport = WsManTransport.Create(options, logger ?? (ILogger)NullLogger.Instance);
    }

    public Uri Endpoint => _options.Endpoint;

    /// <summary>The ResourceURI of a WMI class, e.g. <c>root/cimv2</c> + <c>Win32_Process</c>.</summary>
    public static string WmiResourceUri(string cimNamespace, string className) =>
        WsManNames.WmiResourcePrefix + cimNamespace.Replace('\\', '/').Trim('/') + "/" + className;

    public async Task<WsManIdentity> IdentifyAsync(CancellationToken cancellationToken)
    {
        var reply = await _transport.SendAsync(WsManRequest.Identify(), cancellationToken).ConfigureAwait(false);
        return WsManReply.ReadIdentify(reply);
    }

    /// <summary>WS-Transfer Get of one instance; no selectors for a singleton.</summary>
    public async Task<CimInstance> GetAsync(string resourceUri, IReadOnlyDictionary<string, string>? selectors, CancellationToken cancellationToken)
    {
        var reply = await _transport.SendAsync(WsManRequest.Get(_options, resourceUri, selectors), cancellationToken).ConfigureAwait(false);
        return WsManReply.ReadGet(reply);
    }

    /// <summary>
    /// Starts an enumeration, with a WQL filter when given (the ResourceURI is then the namespace's
    /// <c>*</c>). With <paramref name="optimize"/> the first items come in the reply itself.
    /// </summary>
    public async Task<WsManEnumerationPage> EnumerateAsync(
        string resourceUri, string? wqlFilter, bool optimize, CancellationToken cancellationToken, string? className = null)
    {
        var reply = await _transport.SendAsync(WsManRequest.Enumerate(_options, resourceUri, wqlFilter, optimize), cancellationToken).ConfigureAwait(false);
        return WsManReply.ReadEnumeration(reply, className);
    }

    public async Task<WsManEnumerationPage> PullAsync(string resourceUri, string context, CancellationToken cancellationToken, string? className = null)
    {
        var reply = await _transport.SendAsync(WsManRequest.Pull(_options, resourceUri, context), cancellationToken).ConfigureAwait(false);
        return WsManReply.ReadEnumeration(reply, className);
    }

    /// <summary>Ends an enumeration early so the server can free it.</summary>
    public async Task ReleaseAsync(string resourceUri, string context, CancellationToken cancellationToken)
    {
        var reply = await _transport.SendAsync(WsManRequest.Release(_options, resourceUri, context), cancellationToken).ConfigureAwait(false);
        WsManReply.ReadRelease(reply);
    }

    /// <summary>
    /// Enumerate with OptimizeEnumeration, then Pull until EndOfSequence. A sequence longer than
    /// <see cref="WsManClientOptions.MaxQueryItems"/> is released and reported as a protocol error.
    /// </summary>
    public async Task<IReadOnlyList<CimInstance>> QueryAsync(
        string resourceUri, string wql, CancellationToken cancellationToken, string? className = null)
    {
        var page = await EnumerateAsync(resourceUri, wql, optimize: true, cancellationToken, className).ConfigureAwait(false);
        var items = new List<CimInstance>(page.Items);
        while (page.Context is { } context)
        {
            if (items.Count > _options.MaxQueryItems)
            {
                await ReleaseQuietlyAsync(resourceUri, context).ConfigureAwait(false);
                throw new CimException(CimErrorCategory.Protocol, $"The query returned more than {_options.MaxQueryItems} instances.");
            }

            try
            {
                page = await PullAsync(resourceUri, context, cancellationToken, className).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await ReleaseQuietlyAsync(resourceUri, context).ConfigureAwait(false);
                throw;
            }

            items.AddRange(page.Items);
        }

        return items;
    }

    /// <summary>
    /// Invokes a method: static when <paramref name="selectors"/> is null or empty (no SelectorSet is
    /// sent), else on the instance the selectors name.
    /// </summary>
    public async Task<CimMethodResult> InvokeAsync(
        string resourceUri,
        string methodName,
        IReadOnlyList<CimParameter> parameters,
        IReadOnlyDictionary<string, string>? selectors,
        CancellationToken cancellationToken)
    {
        var envelope = WsManRequest.Invoke(_options, resourceUri, methodName, parameters, selectors);
        var reply = await _transport.SendAsync(envelope, cancellationToken).ConfigureAwait(false);
        return WsManReply.ReadInvoke(reply, methodName);
    }

    public ValueTask DisposeAsync() => _transport.DisposeAsync();

    private async Task ReleaseQuietlyAsync(string resourceUri, string context)
    {
        try
        {
            using var shortWait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await ReleaseAsync(resourceUri, context, shortWait.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CimException or OperationCanceledException)
        {
            // The server drops abandoned enumerations on its own after a while.
        }
    }
}
