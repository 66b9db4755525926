using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Storage;

namespace ProvisioningFleet.Api.Jobs;

public static class FleetJobsExtensions
{
    public const string HangfireSchema = "hangfire";

    /// <summary>
    /// Hangfire on the service's own PostgreSQL database (schema <c>hangfire</c>, created at start-up),
    /// and, unless <c>Fleet:Engine:RunJobs=false</c>, a job server on this instance.
    /// </summary>
    public static IHostApplicationBuilder AddFleetJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHangfire((services, configuration) =>
        {
            var settings = services.GetRequiredService<IOptions<EngineOptions>>().Value;
            configuration
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UsePostgreSqlStorage(
                    storage => storage.UseNpgsqlConnection(services.GetRequiredService<IConfiguration>().GetConnectionString(FleetDataExtensions.ConnectionStringName)),
                    new PostgreSqlStorageOptions
                    {
                        SchemaName = HangfireSchema,
                        PrepareSchemaIfNecessary = true,
                        // The heartbeat that keeps a running job invisible: without it a shard running longer than the
                        // timeout would be handed to a second worker, and with it the timeout can be short, so that a
                        // crashed process's shards come back within minutes instead of Hangfire's 30 (issue 16, item 14).
                        UseSlidingInvisibilityTimeout = true,
                        InvisibilityTimeout = settings.JobInvisibilityTimeout,
                        // Held only for moments (the recurring-job scheduler, the scheduled sweep); one a crash left behind
                        // must not stop the schedule for Hangfire's default 10 minutes.
                        DistributedLockTimeout = settings.JobInvisibilityTimeout,
                        // Off: with it, every fetch opens a LISTEN connection and cancels its wait once a job is found,
                        // the pattern of Npgsql's open WaitAsync-cancellation deadlock (npgsql#5975), which would leave
                        // a worker stuck holding a job it never starts. Jobs enqueued by this process wake its idle
                        // workers at once anyway; another replica's are seen within JobPollInterval.
                        EnableLongPolling = false,
                        QueuePollInterval = settings.JobPollInterval,
                    });
        });

        var engine = builder.Configuration.GetSection(EngineOptions.Section).Get<EngineOptions>() ?? new EngineOptions();
        if (engine.RunJobs)
        {
            builder.Services.AddHangfireServer((services, server) =>
            {
                var options = services.GetRequiredService<IOptions<EngineOptions>>().Value;
                server.WorkerCount = options.WorkerCount;
                server.SchedulePollingInterval = options.JobPollInterval;
            });
            builder.Services.AddSingleton<StalledJobRelease>();
            builder.Services.AddHostedService<StalledJobWatch>();
        }

        return builder;
    }
}
