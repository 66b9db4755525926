using Npgsql;

namespace ProvisioningFleet.Api.Storage;

/// <summary>
/// Tells "PostgreSQL cannot be reached or is shutting down" (the caller should retry: 503 with
/// Retry-After) from a fault in the request itself. Npgsql raises a plain <see cref="NpgsqlException"/>
/// for a refused, reset or timed-out connection and an exhausted pool; the server's own refusals while
/// it stops or starts are SQLSTATE class 08 (connection), 57P (shutdown) and 53 (out of resources).
/// </summary>
public static class DatabaseUnavailable
{
    /// <summary>What the 503 asks the caller to wait, in seconds: about as long as a database restart or fail-over takes to begin answering.</summary>
    public const int RetryAfterSeconds = 5;

    public static bool Is(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException postgres:
                    return postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)
                        || postgres.SqlState.StartsWith("53", StringComparison.Ordinal);
                case NpgsqlException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Text PostgreSQL refuses to store or compare (U+0000, or bytes invalid in the database's encoding).</summary>
    public static bool IsUnstorableText(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is PostgresException postgres)
            {
                return postgres.SqlState is PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter;
            }
        }

        return false;
    }
}
