using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ProvisioningFleet.Data;

/// <summary>Tells a unique-index conflict (a duplicate, or a race lost to another writer) from other database failures.</summary>
public static class UniqueViolation
{
    public static bool IsUniqueViolation(this PostgresException exception) => exception.SqlState == PostgresErrorCodes.UniqueViolation;

    /// <summary>Whether saving failed on a unique index; <paramref name="violation"/> names the constraint.</summary>
    public static bool IsUniqueViolation(this DbUpdateException exception, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PostgresException? violation)
    {
        violation = exception.InnerException as PostgresException is { } postgres && postgres.IsUniqueViolation() ? postgres : null;
        return violation is not null;
    }
}
