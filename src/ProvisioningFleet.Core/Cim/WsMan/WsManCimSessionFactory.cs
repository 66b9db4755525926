using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProvisioningFleet.WsMan;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Cim.WsMan;

/// <summary>
/// Opens <see cref="ICimSession"/>s over WS-Management, pooling one authenticated client per endpoint
/// and credential. Opening never contacts the device and never throws: a target that can never work
/// (Basic over HTTP without AllowUnencrypted, Basic or NTLM without a credential) gives a
/// session whose every call fails with a Configuration <see cref="CimException"/>.
/// </summary>
public sealed class WsManCimSessionFactory : ICimSessionFactory, IAsyncDisposable
{
    private readonly WsManSessionSettings _settings;
    private readonly WsManSessionPool _pool;
    private readonly WsManTlsOptions _tls;

    public WsManCimSessionFactory(WsManSessionSettings settings, TimeProvider timeProvider, ILoggerFactory? loggerFactory = null)
    {
        _settings = settings;
        _tls = TlsFrom(settings);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<WsManClient>();
        _pool = new WsManSessionPool(options => new WsManClient(options, logger), timeProvider, settings.IdleSessionTimeout, settings.MaxIdleSessions);
    }

    /// <summary>Pooled clients, for tests and metrics.</summary>
    internal int PooledSessions => _pool.Count;

    public ICimSession Open(CimTarget target)
    {
        try
        {
            return new WsManCimSession(_pool.Rent(OptionsFor(target)));
        }
        catch (CimException e)
        {
            return new RefusedCimSession(e);
        }
    }

    internal WsManClientOptions OptionsFor(CimTarget target) => new()
    {
        Endpoint = target.Endpoint,
        Authentication = target.Authentication switch
        {
            CimAuthentication.Basic => WsManAuthentication.Basic,
            CimAuthentication.Ntlm => WsManAuthentication.Ntlm,
            CimAuthentication.Kerberos => WsManAuthentication.Kerberos,
            _ => WsManAuthentication.Negotiate,
        },
        Credential = target.Credential is { } c ? new WsManCredential(c.UserName, c.Password, c.Domain) : null,
        ServicePrincipalName = target.ServicePrincipalName,
        AllowUnencrypted = _settings.AllowUnencrypted,
        OperationTimeout = _settings.OperationTimeout,
        ConnectTimeout = _settings.ConnectTimeout,
        ConnectionIdleTimeout = _settings.IdleSessionTimeout,
        MaxReplyBytes = _settings.MaxReplyBytes,
        MaxQueryBytes = _settings.MaxQueryBytes,
        Tls = _tls,
    };

    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    public static WsManTlsOptions TlsFrom(WsManSessionSettings settings)
    {
        X509Certificate2Collection? roots = null;
        if (!string.IsNullOrWhiteSpace(settings.TrustedCaFile))
        {
            roots = [];
            roots.ImportFromPemFile(settings.TrustedCaFile);
        }

        return new WsManTlsOptions
        {
            TrustedCertificateAuthorities = roots,
            PinnedSha256Thumbprint = string.IsNullOrWhiteSpace(settings.PinnedCertificateSha256) ? null : settings.PinnedCertificateSha256,
            SkipCertificateValidation = settings.SkipCertificateValidation,
        };
    }
}
