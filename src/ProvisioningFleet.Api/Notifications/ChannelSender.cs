using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using OpenTelemetry;
using ProvisioningFleet.Data.Notifications;

namespace ProvisioningFleet.Api.Notifications;

/// <summary>How one attempt to send a message ended.</summary>
public sealed record SendResult(bool Accepted, int? ResponseCode, string? Error);

/// <summary>
/// Sends one message to one channel within <see cref="NotificationOptions.DeliveryTimeout"/>, and never
/// throws for the channel's faults: they come back as a <see cref="SendResult"/>. Error texts never
/// carry the channel's URL or secret.
/// </summary>
public sealed class ChannelSender(
    IHttpClientFactory httpClients,
    ChannelSecrets secrets,
    IOptions<NotificationOptions> options,
    IOptions<SmtpOptions> smtpOptions,
    TimeProvider time)
{
    public const string HttpClientName = "notifications";
    public const string EventHeader = "X-Fleet-Event";
    public const string SignatureHeader = "X-Fleet-Signature";

    public async Task<SendResult> SendAsync(NotificationChannel channel, IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var deadline = new CancellationTokenSource(settings.DeliveryTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return channel.Kind == NotificationChannelKind.Email
                ? await SendMailAsync(channel, HumanMessage.For(events, settings), linked.Token)
                : await PostAsync(channel, events, settings, linked.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new SendResult(false, null, $"No answer within {settings.DeliveryTimeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException e)
        {
            return new SendResult(false, null, $"{e.HttpRequestError}: {e.Message}");
        }
        catch (CryptographicException)
        {
            return new SendResult(false, null, "The channel's secret cannot be decrypted with this instance's key ring.");
        }
        catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or AuthenticationException or SslHandshakeException or IOException
                                     or System.Net.Sockets.SocketException or ServiceNotConnectedException or ServiceNotAuthenticatedException)
        {
            return new SendResult(false, e is SmtpCommandException command ? (int)command.StatusCode : null, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private async Task<SendResult> PostAsync(NotificationChannel channel, IReadOnlyList<OutgoingEvent> events, NotificationOptions settings, CancellationToken cancellationToken)
    {
        var url = channel.Kind == NotificationChannelKind.Webhook ? channel.Url : channel.ProtectedUrl is { } stored ? secrets.Reveal(stored) : null;
        if (url is null)
        {
            return new SendResult(false, null, "The channel has no URL.");
        }

        byte[] body;
        string type;
        switch (channel.Kind)
        {
            case NotificationChannelKind.Slack:
                (type, body) = (TypeOf(events), HttpMessageBodies.Slack(HumanMessage.For(events, settings)));
                break;
            case NotificationChannelKind.Teams:
                (type, body) = (TypeOf(events), HttpMessageBodies.Teams(HumanMessage.For(events, settings)));
                break;
            default:
                (type, body) = HttpMessageBodies.Webhook(events, time.GetUtcNow());
                break;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(EventHeader, type);
        if (channel.Kind == NotificationChannelKind.Webhook && channel.ProtectedSecret is { } protectedSecret)
        {
            request.Headers.Add(SignatureHeader, Sign(secrets.Reveal(protectedSecret), body));
        }

        // Slack and Teams URLs are credentials: keep them out of traces (the HTTP client instrumentation records the path).
        using var untraced = SuppressInstrumentationScope.Begin();
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var code = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return new SendResult(true, code, null);
        }

        var answer = await ReadStartAsync(response, cancellationToken);
        return new SendResult(false, code, $"HTTP {code} {response.ReasonPhrase}{(answer.Length > 0 ? $": {answer}" : "")}");
    }

    /// <summary><c>sha256=</c> and the lowercase hex HMAC-SHA256 of the exact body bytes.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), body));

    private async Task<SendResult> SendMailAsync(NotificationChannel channel, HumanMessage message, CancellationToken cancellationToken)
    {
        var smtp = smtpOptions.Value;
        if (!smtp.IsConfigured)
        {
            return new SendResult(false, null, "SMTP is not configured (Fleet:Smtp:Host and Fleet:Smtp:From).");
        }

        var mail = new MimeMessage { Subject = $"[ProvisioningFleet] {message.Title}" };
        mail.From.Add(MailboxAddress.Parse(smtp.From));
        mail.To.AddRange(channel.To.Select(MailboxAddress.Parse));
        mail.Body = new TextPart("plain") { Text = message.PlainText() };

        using var client = new SmtpClient { Timeout = (int)options.Value.DeliveryTimeout.TotalMilliseconds };
        if (smtp.TrustedCaFile is { Length: > 0 } caFile)
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(caFile);
            client.ServerCertificateValidationCallback = (_, certificate, _, errors) => TrustedBy(authorities, certificate, errors);
        }

        var security = !smtp.UseTls ? SecureSocketOptions.None : smtp.Port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
        await client.ConnectAsync(smtp.Host, smtp.Port, security, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", cancellationToken);
        }

        await client.SendAsync(mail, cancellationToken);
        await client.DisconnectAsync(true, cancellationToken);
        return new SendResult(true, 250, null);
    }

    /// <summary>The system store's verdict, or else a chain to one of the configured authorities; the host name must match either way.</summary>
    private static bool TrustedBy(X509Certificate2Collection authorities, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private static string TypeOf(IReadOnlyList<OutgoingEvent> events) => events.Count == 1 ? events[0].Type : OutgoingEvent.DigestType;

    private static async Task<string> ReadStartAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new char[200];
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var read = await reader.ReadBlockAsync(buffer, cancellationToken);
        return new string(buffer, 0, read).ReplaceLineEndings(" ").Trim();
    }
}
