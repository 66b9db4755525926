using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests;

/// <summary>Every test that needs the database joins this collection: one PostgreSQL server for the run.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Postgres";
}
