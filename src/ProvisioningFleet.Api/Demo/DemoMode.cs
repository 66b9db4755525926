using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Storage;
using ProvisioningFleet.LocalServices;

namespace ProvisioningFleet.Api.Demo;

/// <summary>
/// <c>--demo</c>: a private PostgreSQL and a simulated fleet, for trying the service with nothing set up.
/// The flag becomes the setting <c>Fleet:Demo=true</c>, so tests and containers can set it the usual ways.
/// </summary>
public static class DemoMode
{
    public const string Setting = "Fleet:Demo";

    /// <summary>
    /// Lets demo mode use the configured <c>ConnectionStrings:Fleet</c>, which it otherwise refuses: it imports a
    /// simulated fleet and a credential there. For a throwaway database only (the tests use one).
    /// </summary>
    public const string UseConfiguredDatabaseSetting = "Fleet:Demo:UseConfiguredDatabase";

    /// <summary>
    /// The arguments for the host. A bare <c>--demo</c> would make the command-line configuration
    /// provider swallow the next argument (<c>--demo --urls X</c>) as its value.
    /// </summary>
    public static string[] HostArguments(string[] args) =>
        args.Select(argument => argument == "--demo" ? $"--{Setting}=true" : argument).ToArray();

    public static bool IsDemo(this IConfiguration configuration) => configuration.GetValue<bool>(Setting);

    /// <summary>Where demo mode keeps its database and generated keys; under the content root unless set.</summary>
    public static string DataFolder(this IHostApplicationBuilder builder) =>
        builder.Configuration["Fleet:Demo:DataPath"] is { Length: > 0 } path
            ? Path.GetFullPath(path, builder.Environment.ContentRootPath)
            : Path.Combine(builder.Environment.ContentRootPath, ".demo-data");

    /// <summary>
    /// In demo mode only, before the features that read them: the database (a private cluster under the
    /// data folder unless <c>ConnectionStrings__Fleet</c> is set) and the key-ring certificate's folder.
    /// </summary>
    public static async Task<IHostApplicationBuilder> AddDemoModeAsync(this IHostApplicationBuilder builder, CancellationToken cancellationToken = default)
    {
        if (!builder.Configuration.IsDemo())
        {
            return builder;
        }

        builder.Configuration[KeyRingCertificate.InstanceFolderSetting] = builder.DataFolder();
        var configured = !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(FleetDataExtensions.ConnectionStringName));
        if (configured && !builder.Configuration.GetValue<bool>(UseConfiguredDatabaseSetting))
        {
            throw new FleetConfigurationException(
                "Demo mode refuses the configured database (ConnectionStrings__Fleet is set): it would import a simulated fleet " +
                "and its credential into it. Drop --demo to run against that database, or unset ConnectionStrings__Fleet for the " +
                $"demo's private PostgreSQL in {builder.DataFolder()}. For a throwaway database: " +
                $"{FleetConfigurationException.EnvironmentName(UseConfiguredDatabaseSetting)}=true.");
        }

        if (!configured)
        {
            var cluster = await StartClusterAsync(builder, cancellationToken);
            // Everything else that reads the connection string (the job store too) gets the same database.
            builder.Configuration[$"ConnectionStrings:{FleetDataExtensions.ConnectionStringName}"] = cluster.ConnectionString("provisioning_fleet");
        }

        return builder;
    }

    private static async Task<LocalPostgresCluster> StartClusterAsync(IHostApplicationBuilder builder, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(builder.DataFolder(), "postgres");
        LocalPostgresCluster cluster;
        try
        {
            cluster = await LocalPostgresCluster.StartAsync(folder, deleteOnDispose: false, cancellationToken);
        }
        catch (InvalidOperationException exception)
        {
            throw new FleetConfigurationException(
                $"Demo mode could not start its private PostgreSQL in {folder}: {exception.Message}\n" +
                "Alternatively point it at a server: set ConnectionStrings__Fleet.", exception);
        }

        // Registered before every other hosted service, so it stops last: the database outlives its users.
        builder.Services.AddHostedService(services => new DemoDatabaseLifetime(cluster, services.GetRequiredService<ILogger<DemoDatabaseLifetime>>()));
        return cluster;
    }
}
