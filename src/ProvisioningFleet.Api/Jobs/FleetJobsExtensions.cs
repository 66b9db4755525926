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
        builder.Services.AddHangfire((services, configuration) => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(
                storage => storage.UseNpgsqlConnection(services.GetRequiredService<IConfiguration>().GetConnectionString(FleetDataExtensions.ConnectionStringName)),
                new PostgreSqlStorageOptions
                {
                    SchemaName = HangfireSchema,
                    PrepareSchemaIfNecessary = true,
                    // Without it a shard that runs longer than the invisibility timeout is handed to a second worker while it still runs.
                    UseSlidingInvisibilityTimeout = true,
                    EnableLongPolling = true,
                    QueuePollInterval = services.GetRequiredService<IOptions<EngineOptions>>().Value.JobPollInterval,
                }));

        var engine = builder.Configuration.GetSection(EngineOptions.Section).Get<EngineOptions>() ?? new EngineOptions();
        if (engine.RunJobs)
        {
            builder.Services.AddHangfireServer((services, server) =>
            {
                var options = services.GetRequiredService<IOptions<EngineOptions>>().Value;
                server.WorkerCount = options.WorkerCount;
                server.SchedulePollingInterval = options.JobPollInterval;
            });
        }

        return builder;
    }
}
