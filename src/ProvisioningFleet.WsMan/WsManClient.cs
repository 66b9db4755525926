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
        string resourceUri, string? wqlFilter, bool optimize, CancellationToken cancellationToken, string? className = null) =>
        (await EnumerateMeasuredAsync(resourceUri, wqlFilter, optimize, MaxElementsPerReply, cancellationToken, className).ConfigureAwait(false)).Page;

    public async Task<WsManEnumerationPage> PullAsync(string resourceUri, string context, CancellationToken cancellationToken, string? className = null) =>
        (await PullMeasuredAsync(resourceUri, context, MaxElementsPerReply, cancellationToken, className).ConfigureAwait(false)).Page;

    /// <summary>Ends an enumeration early so the server can free it.</summary>
    public async Task ReleaseAsync(string resourceUri, string context, CancellationToken cancellationToken)
    {
        var reply = await _transport.SendAsync(WsManRequest.Release(_options, resourceUri, context), cancellationToken).ConfigureAwait(false);
        WsManReply.ReadRelease(reply);
    }

    /// <summary>
    /// Enumerate with OptimizeEnumeration, then Pull until EndOfSequence, asking for no more items than
    /// the caller can use. <paramref name="maxItems"/> is what the caller can use: the first that many
    /// are returned and the rest of the enumeration is released. Without it, a sequence longer than
    /// <see cref="WsManClientOptions.MaxQueryItems"/> is a protocol error. Either way, replies that
    /// together pass <see cref="WsManClientOptions.MaxQueryBytes"/> end the query as a protocol error:
    /// a server that ignores MaxElements and streams large pages costs bounded memory.
    /// </summary>
    public async Task<IReadOnlyList<CimInstance>> QueryAsync(
        string resourceUri, string wql, CancellationToken cancellationToken, string? className = null, int? maxItems = null)
    {
        if (maxItems is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxItems), maxItems, "A query must be able to use at least one item.");
        }

        var limit = Math.Min(maxItems ?? int.MaxValue, _options.MaxQueryItems);
        var (page, bytes) = await EnumerateMeasuredAsync(resourceUri, wql, optimize: true, ElementsToAsk(0), cancellationToken, className).ConfigureAwait(false);
        var items = new List<CimInstance>(Math.Min(page.Items.Count, limit));
        long totalBytes = 0;
        while (true)
        {
            totalBytes += bytes;
            if (totalBytes > _options.MaxQueryBytes)
            {
                await ReleaseIfOpenAsync(page.Context).ConfigureAwait(false);
                throw new CimException(CimErrorCategory.Protocol,
                    $"The query's replies passed {_options.MaxQueryBytes} bytes ({items.Count + page.Items.Count} instances so far); the rest was not read.");
            }

            var room = limit - items.Count;
            items.AddRange(page.Items.Count <= room ? page.Items : page.Items.Take(room));
            if (page.Items.Count > room || (items.Count == limit && page.Context is not null))
            {
                await ReleaseIfOpenAsync(page.Context).ConfigureAwait(false);
                return maxItems is not null
                    ? items
                    : throw new CimException(CimErrorCategory.Protocol, $"The query returned more than {_options.MaxQueryItems} instances.");
            }

            if (page.Context is not { } context)
            {
                return items;
            }

            try
            {
                (page, bytes) = await PullMeasuredAsync(resourceUri, context, ElementsToAsk(items.Count), cancellationToken, className).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await ReleaseQuietlyAsync(resourceUri, context).ConfigureAwait(false);
                throw;
            }
        }

        // One more than the caller can use tells "exactly that many" from "more than that" in the same reply.
        int ElementsToAsk(int have) => (int)Math.Clamp((long)limit - have + 1, 1, MaxElementsPerReply);

        Task ReleaseIfOpenAsync(string? context) => context is null ? Task.CompletedTask : ReleaseQuietlyAsync(resourceUri, context);
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

    /// <summary>The most items asked for in one reply (wsman:MaxElements / n:MaxElements).</summary>
    private const int MaxElementsPerReply = 32000;

    private async Task<(WsManEnumerationPage Page, int Bytes)> EnumerateMeasuredAsync(
        string resourceUri, string? wqlFilter, bool optimize, int maxElements, CancellationToken cancellationToken, string? className)
    {
        var reply = await _transport.SendAsync(WsManRequest.Enumerate(_options, resourceUri, wqlFilter, optimize, maxElements), cancellationToken).ConfigureAwait(false);
        return (WsManReply.ReadEnumeration(reply, className), reply.Length);
    }

    private async Task<(WsManEnumerationPage Page, int Bytes)> PullMeasuredAsync(
        string resourceUri, string context, int maxElements, CancellationToken cancellationToken, string? className)
    {
        var reply = await _transport.SendAsync(WsManRequest.Pull(_options, resourceUri, context, maxElements), cancellationToken).ConfigureAwait(false);
        return (WsManReply.ReadEnumeration(reply, className), reply.Length);
    }

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
