using System.Text;
using ProvisioningFleet.Simulator.Authentication;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>
/// The WinRM listener of every simulated device: finds the device (by path or Host header), plays its
/// behaviour, authenticates, unseals, answers, seals.
/// </summary>
internal sealed class WsManListener(
    SimulatedFleet fleet, SimulatorOptions options, ListenerAuthentication authentication, WsManDispatcher dispatcher, CancellationToken stopping)
{
    private const string SoapContentType = "application/soap+xml;charset=UTF-8";
    private static readonly byte[] MalformedReply = "<html><body><h1>502 Bad Gateway</h1><p>upstream sent garbage"u8.ToArray();
    private static readonly byte[] StalledReplyStart = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Header>"u8.ToArray();

    private readonly Random _faults = options.FaultSeed is { } seed ? new Random(seed) : Random.Shared;
    private readonly Lock _faultGate = new();

    public async Task HandleAsync(HttpContext context, string? hostFromPath)
    {
        var aborted = context.RequestAborted;
        var hostName = string.IsNullOrEmpty(hostFromPath) ? context.Request.Host.Host : hostFromPath;
        var device = fleet.Find(hostName);
        if (device is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }
        device.CatchUp();

        switch (device.Behavior)
        {
            case DeviceBehavior.RefuseConnections:
                context.Abort();
                return;
            case DeviceBehavior.Silent:
                await WaitForClientToGiveUpAsync(aborted, stopping);
                return;
        }

        var body = await ReadBodyAsync(context.Request, aborted);
        var unauthenticatedIdentify = context.Request.Headers["WSMANIDENTIFY"].ToString().Equals("unauthenticated", StringComparison.OrdinalIgnoreCase)
            && !SessionEncryption.IsEncrypted(context.Request.ContentType);
        var caller = unauthenticatedIdentify ? null : authentication.Authenticate(context, device.Behavior == DeviceBehavior.AccessDenied);
        if (caller is null && !unauthenticatedIdentify)
        {
            return;
        }

        byte[] message;
        var encrypted = SessionEncryption.IsEncrypted(context.Request.ContentType);
        if (encrypted)
        {
            if (caller?.Session is null)
            {
                await PlainErrorAsync(context, StatusCodes.Status400BadRequest, "An encrypted message needs an authenticated Negotiate session on this connection.");
                return;
            }
            try
            {
                message = SessionEncryption.Unseal(caller.Session, caller.Protocol, context.Request.ContentType, body);
            }
            catch (InvalidDataException ex)
            {
                await PlainErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message);
                return;
            }
        }
        else if (body.Length == 0)
        {
            // The last leg of a handshake often carries no message (pywinrm primes its context this way).
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentLength = 0;
            return;
        }
        else
        {
            if (caller?.Session is not null && !context.Request.IsHttps && !options.AllowUnencrypted)
            {
                await PlainErrorAsync(context, StatusCodes.Status400BadRequest, "The WinRM service is configured to reject unencrypted messages (AllowUnencrypted=false).");
                return;
            }
            if (context.Request.ContentType is not { } type || !type.StartsWith("application/soap+xml", StringComparison.OrdinalIgnoreCase))
            {
                await PlainErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, "WS-Management messages are application/soap+xml.");
                return;
            }
            message = body;
        }

        if (device.Latency > TimeSpan.Zero)
        {
            await Task.Delay(device.Latency, aborted);
        }

        switch (device.Behavior)
        {
            case DeviceBehavior.Malformed:
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = SoapContentType;
                await context.Response.Body.WriteAsync(MalformedReply, aborted);
                return;
            case DeviceBehavior.Stall:
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = SoapContentType;
                await context.Response.Body.WriteAsync(StalledReplyStart, aborted);
                await context.Response.Body.FlushAsync(aborted);
                await WaitForClientToGiveUpAsync(aborted, stopping);
                return;
        }

        int status;
        string reply;
        try
        {
            (status, reply) = Answer(device, message, authenticated: caller is not null);
        }
        catch (DroppedConnectionException)
        {
            context.Abort();
            return;
        }

        if (status == StatusCodes.Status401Unauthorized)
        {
            // WSMANIDENTIFY: unauthenticated covers Identify only; anything else needs credentials.
            authentication.Authenticate(context, refuseEveryone: true);
            return;
        }
        context.Response.StatusCode = status;
        if (encrypted)
        {
            var sealedReply = SessionEncryption.Seal(caller!.Session!, caller.Protocol, Encoding.UTF8.GetBytes(reply));
            context.Response.ContentType = SessionEncryption.ContentType(caller.Protocol);
            context.Response.ContentLength = sealedReply.Length;
            await context.Response.Body.WriteAsync(sealedReply, aborted);
            return;
        }
        // Encoded straight into the response's buffers: no byte array the size of the reply for each request.
        context.Response.ContentType = SoapContentType;
        context.Response.ContentLength = Encoding.UTF8.GetByteCount(reply);
        Encoding.UTF8.GetBytes(reply, context.Response.BodyWriter);
        await context.Response.BodyWriter.FlushAsync(aborted);
    }

    private (int Status, string Reply) Answer(SimulatedDevice device, byte[] message, bool authenticated)
    {
        WsManRequest? request = null;
        try
        {
            request = WsManRequest.Parse(message);
            if (!authenticated && !request.IsIdentify)
            {
                return (StatusCodes.Status401Unauthorized, string.Empty);
            }
            if (!request.IsIdentify && device.FaultRate > 0 && NextFault() < device.FaultRate)
            {
                throw WsManFaults.Wmi(WsManFaults.WbemFailed, "Generic failure", sender: false);
            }
            return (StatusCodes.Status200OK, dispatcher.Dispatch(request, device));
        }
        catch (WsManFaultException fault)
        {
            return (fault.HttpStatus, SoapWriter.Fault(fault, request?.MessageId, device.HostName, request?.UsePreciseErrorCodes ?? false));
        }
    }

    private double NextFault()
    {
        lock (_faultGate)
        {
            return _faults.NextDouble();
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length and <= 4 * 1024 * 1024)
        {
            var exact = new byte[length];
            var read = await request.Body.ReadAtLeastAsync(exact, exact.Length, throwOnEndOfStream: false, cancellationToken);
            return read == exact.Length ? exact : exact[..read];
        }
        using var buffer = new MemoryStream(4096);
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    private static async Task PlainErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message, context.RequestAborted);
    }

    private static async Task WaitForClientToGiveUpAsync(CancellationToken aborted, CancellationToken stopping)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
