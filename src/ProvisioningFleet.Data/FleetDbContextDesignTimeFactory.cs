using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ProvisioningFleet.Data;

/// <summary>
/// For <c>dotnet ef migrations add X -p src/ProvisioningFleet.Data -s src/ProvisioningFleet.Data</c>:
/// adding a migration needs the model, not a server, so a placeholder connection string serves
/// unless <c>ConnectionStrings__Fleet</c> is set (as <c>dotnet ef database update</c> needs).
/// </summary>
public sealed class FleetDbContextDesignTimeFactory : IDesignTimeDbContextFactory<FleetDbContext>
{
    public FleetDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Fleet")
            ?? "Host=localhost;Database=provisioning_fleet";
        var options = new DbContextOptionsBuilder<FleetDbContext>();
        FleetDbContext.Configure(options, connectionString);
        return new FleetDbContext(options.Options);
    }
}
