using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Probing;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Telemetry;

namespace ProvisioningFleet.Api.Engine;

public static class ProvisioningEngineExtensions
{
    /// <summary>
    /// Probe, verdicts and the remediator: what sweeps and the manual endpoints share. Needs the
    /// database (AddFleetData), the credential vault; brings the <see cref="ICimSessionFactory"/> that
    /// Fleet:WinRm:Client selects (WS-Man by default) unless one is registered before.
    /// </summary>
    public static IHostApplicationBuilder AddProvisioningEngine(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EngineOptions>().Bind(builder.Configuration.GetSection(EngineOptions.Section))
            .Validate(o => o.ShardSize > 0 && o.ProbeConcurrency > 0 && o.RecordBatchSize > 0 && o.WorkerCount > 0 && o.VerifyAttempts > 0,
                "Fleet:Engine sizes (ShardSize, ProbeConcurrency, RecordBatchSize, WorkerCount, VerifyAttempts) must be positive.")
            .Validate(o => o.ProbeTimeout > TimeSpan.Zero && o.RemediationTimeout > TimeSpan.Zero && o.FixCallTimeout > TimeSpan.Zero,
                "Fleet:Engine timeouts must be positive: every remote call is bounded.")
            // A live fix must never look abandoned: reconciling it would race the worker still talking to the device.
            .Validate(o => o.StaleRemediationAfter > o.RemediationTimeout && o.ReconcileInterval > TimeSpan.Zero,
                "Fleet:Engine:StaleRemediationAfter must be longer than Fleet:Engine:RemediationTimeout, and ReconcileInterval positive.")
            // Below that, a heartbeat (every fifth of the timeout) delayed by a busy database could hand a live job out again.
            .Validate(o => o.JobInvisibilityTimeout >= TimeSpan.FromSeconds(15) && o.ShardLockRetry > TimeSpan.Zero,
                "Fleet:Engine:JobInvisibilityTimeout must be at least 15 seconds, and ShardLockRetry positive.")
            .Validate(o => o.StalledJobAfter >= TimeSpan.FromSeconds(90),
                "Fleet:Engine:StalledJobAfter must be at least 90 seconds: a worker may take up to a minute to start a job it took.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddCimSessionFactory(builder.Configuration, OperatingSystem.IsWindows());
        services.TryAddSingleton<FleetTelemetry>();
        services.AddSingleton(sp => new ProvisioningProbe(sp.GetRequiredService<TimeProvider>(),
            new ProbeOptions { Timeout = sp.GetRequiredService<IOptions<EngineOptions>>().Value.ProbeTimeout }));
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<EngineOptions>>().Value;
            return new Remediator(sp.GetRequiredService<TimeProvider>(), new RemediationOptions
            {
                Timeout = options.RemediationTimeout,
                VerifyAttempts = options.VerifyAttempts,
                VerifyInterval = options.VerifyInterval,
                FixCallTimeout = options.FixCallTimeout,
            });
        });
        services.AddSingleton<DeviceProbing>();
        services.AddSingleton<DeviceVerdicts>();
        return builder;
    }
}
