using System.Collections.Concurrent;
using DotNet.Testcontainers.Builders;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProvisioningFleet.Data;
using ProvisioningFleet.LocalServices;
using Testcontainers.PostgreSql;
using Xunit;

namespace ProvisioningFleet.Testing;

/// <summary>
/// A real PostgreSQL for tests, in this order of preference: the server in FLEET_TEST_POSTGRES (a
/// connection string of a user allowed to create databases), a Testcontainers container when a Docker
/// engine answers, or a throwaway local cluster (initdb + pg_ctl). The schema is migrated once into a
/// template database; each test class gets a copy of it (CREATE DATABASE ... TEMPLATE), which is cheap.
/// Use it as an xunit collection fixture: declare in the test assembly
/// <c>[CollectionDefinition("Postgres")] public class PostgresCollection : ICollectionFixture&lt;PostgresFixture&gt;;</c>
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string ServerVariable = "FLEET_TEST_POSTGRES";
    private const string TemplateDatabase = "fleet_template";

    private readonly SemaphoreSlim _createDatabase = new(1, 1);
    private readonly ConcurrentDictionary<Type, Lazy<Task<FleetApiFactory>>> _factories = new();
    private PostgreSqlContainer? _container;
    private LocalPostgresCluster? _cluster;
    private string _serverConnectionString = "";

    /// <summary>Where the server came from, for messages.</summary>
    public string Source { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } configured)
        {
            _serverConnectionString = configured;
            Source = ServerVariable;
        }
        else if (await TryStartContainerAsync() is { } container)
        {
            _container = container;
            _serverConnectionString = container.GetConnectionString();
            Source = "Testcontainers";
        }
        else if (LocalPostgresCluster.FindBinaries() is not null)
        {
            var folder = Path.Combine(Path.GetTempPath(), $"provisioningfleet-tests-{Guid.NewGuid():N}");
            _cluster = await LocalPostgresCluster.StartAsync(folder, deleteOnDispose: true, CancellationToken.None);
            _serverConnectionString = _cluster.ConnectionString("postgres");
            Source = $"local cluster in {folder}";
        }
        else
        {
            throw new InvalidOperationException(
                "The tests need PostgreSQL and found none: no Docker engine answered, and no local server binaries were found. " +
                $"Either start Docker, or {LocalPostgresCluster.InstallHint}, or set {ServerVariable} to a connection string of a server where the tests may create databases.");
        }

        await CreateTemplateAsync();
    }

    /// <summary>A new database with the current schema; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var name = $"fleet_test_{Guid.NewGuid():N}";
        await _createDatabase.WaitAsync(cancellationToken);
        try
        {
            await ExecuteAsync($"CREATE DATABASE \"{name}\" TEMPLATE \"{TemplateDatabase}\"", cancellationToken);
        }
        finally
        {
            _createDatabase.Release();
        }

        return DatabaseConnectionString(name);
    }

    /// <summary>
    /// The API host of a test class, on a database of its own; made on first use and shared by that
    /// class's tests (so they must not rely on an empty database), disposed with the fixture.
    /// </summary>
    public Task<FleetApiFactory> FactoryForAsync(Type testClass, Action<IDictionary<string, string?>>? settings = null) =>
        _factories.GetOrAdd(testClass, _ => new Lazy<Task<FleetApiFactory>>(async () =>
        {
            var factory = new FleetApiFactory(await CreateDatabaseAsync());
            settings?.Invoke(factory.Settings);
            return factory;
        })).Value;

    public async Task DisposeAsync()
    {
        foreach (var factory in _factories.Values.Where(lazy => lazy.IsValueCreated))
        {
            await (await factory.Value).DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// Every test class keeps its host (Hangfire server and pools included) until the run ends, so
    /// idle connections must close soon, or the classes together exhaust the server's connections.
    /// </summary>
    private string DatabaseConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(_serverConnectionString)
        {
            Database = database,
            MaxPoolSize = 30,
            ConnectionIdleLifetime = 10,
            ConnectionPruningInterval = 2,
        }.ConnectionString;

    private async Task CreateTemplateAsync()
    {
        await ExecuteAsync($"DROP DATABASE IF EXISTS \"{TemplateDatabase}\"", CancellationToken.None);
        await ExecuteAsync($"CREATE DATABASE \"{TemplateDatabase}\"", CancellationToken.None);
        // No pooling: a connection left open to the template would make every CREATE DATABASE ... TEMPLATE fail.
        var template = new NpgsqlConnectionStringBuilder(DatabaseConnectionString(TemplateDatabase)) { Pooling = false }.ConnectionString;
        var options = new DbContextOptionsBuilder<FleetDbContext>();
        FleetDbContext.Configure(options, template);
        await using var db = new FleetDbContext(options.Options);
        await db.Database.MigrateAsync();
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        var server = new NpgsqlConnectionStringBuilder(_serverConnectionString) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<PostgreSqlContainer?> TryStartContainerAsync()
    {
        PostgreSqlContainer container;
        try
        {
            container = new PostgreSqlBuilder("postgres:16-alpine").Build();
        }
        catch (DockerUnavailableException)
        {
            return null;
        }

        try
        {
            await container.StartAsync();
            return container;
        }
        catch (Exception exception) when (exception is DockerUnavailableException or HttpRequestException or TimeoutException)
        {
            await container.DisposeAsync();
            return null;
        }
    }
}
