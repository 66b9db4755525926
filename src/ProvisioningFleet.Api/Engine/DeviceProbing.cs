using System.Security.Cryptography;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Probing;
using ProvisioningFleet.Core.Telemetry;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.Devices;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Api.Engine;

/// <summary>
/// Probes one stored device and judges it. Never throws for the device's sake: a device that cannot be
/// reached, or whose settings cannot be used (a credential that no longer decrypts, Basic over plain
/// HTTP when that is not allowed), gets a verdict with the error.
/// </summary>
public sealed class DeviceProbing(
    ICimSessionFactory sessions, CredentialVault vault, DeviceEndpointRules endpoints, ProvisioningProbe probe, FleetTelemetry telemetry, TimeProvider time)
{
    public async Task<Verdict> ProbeAsync(Device device, Credential? credential, VerdictPolicy policy, CancellationToken cancellationToken)
    {
        using var activity = FleetTelemetry.StartDeviceActivity("fleet.probe", device.Id, device.HostName);
        ProbeResult result;
        try
        {
            await using var session = Open(device, credential);
            result = await probe.ProbeAsync(session, cancellationToken);
        }
        catch (CimException e)
        {
            result = new ProbeResult { StartedAt = time.GetUtcNow(), Duration = TimeSpan.Zero, RoundTrips = 0, Error = ProbeError.From(e) };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A fault of the session stack itself is still this device's verdict, never the sweep's end.
            result = new ProbeResult
            {
                StartedAt = time.GetUtcNow(),
                Duration = TimeSpan.Zero,
                RoundTrips = 0,
                Error = new ProbeError(CimErrorCategory.Fault, $"The session to {device.HostName} failed inside the service: {e.GetType().Name}: {e.Message}", null),
            };
        }

        var verdict = Verdict.Decide(result, policy, device.FirstSeenInProvisioningAt, device.ExpectedClientId);
        telemetry.ProbeCompleted(result.Duration, verdict.State.ToString());
        activity?.SetTag("fleet.device.state", verdict.State.ToString());
        if (result.Error is { } error)
        {
            telemetry.WinRmFailed(error.Category.ToString());
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, error.Category.ToString());
        }

        return verdict;
    }

    /// <summary>
    /// A session to the device, or a <see cref="CimException"/> (Configuration) when its settings cannot be used: among them an
    /// endpoint or a credential the rules refuse now (a credential's scope narrowed, a lab setting turned off since the device was saved).
    /// </summary>
    public ICimSession Open(Device device, Credential? credential)
    {
        if (Uri.TryCreate(device.Endpoint, UriKind.Absolute, out var endpoint)
            && (endpoints.Refusal(endpoint)
                ?? endpoints.CredentialRefusal(credential, new CredentialUse(device.HostName, endpoint, device.Transport, device.Authentication, device.ServicePrincipalName)))
                is { } refusal)
        {
            throw new CimException(CimErrorCategory.Configuration, refusal, null);
        }

        CimTarget target;
        try
        {
            target = vault.TargetFor(device, credential);
        }
        catch (CryptographicException e)
        {
            throw new CimException(CimErrorCategory.Configuration, $"The credential of {device.HostName} cannot be decrypted with this key ring: {e.Message}", null, e);
        }
        catch (UriFormatException e)
        {
            throw new CimException(CimErrorCategory.Configuration, $"The endpoint '{device.Endpoint}' is not a valid URL.", null, e);
        }

        return sessions.Open(target);
    }
}
