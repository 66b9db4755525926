using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Observability;

/// <summary>
/// Counts devices by state with one grouped query per interval (an index-only scan on the state
/// column) and hands the result to <see cref="DeviceCensus"/>, so that scrapes never touch the database.
/// </summary>
internal sealed partial class DeviceCensusRefresh(
    IServiceScopeFactory scopes,
    DeviceCensus census,
    IOptions<MetricsOptions> options,
    TimeProvider time,
    ILogger<DeviceCensusRefresh> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.DeviceCountInterval, time);
        do
        {
            try
            {
                census.Update(await CountAsync(stoppingToken));
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The last good counts stay published; the next tick tries again.
                LogCountFailed(logger, exception);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private async Task<IReadOnlyDictionary<string, long>> CountAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        var counted = await db.Devices.AsNoTracking()
            .GroupBy(device => device.State)
            .Select(group => new { State = group.Key, Count = group.LongCount() })
            .ToDictionaryAsync(row => row.State, row => row.Count, cancellationToken);
        // Every state is published, zeros included, so that a state emptying out reads 0 rather than vanishing.
        return Enum.GetValues<DeviceState>().ToDictionary(state => state.ToString(), state => counted.GetValueOrDefault(state));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counting devices by state for the fleet.devices gauge failed")]
    private static partial void LogCountFailed(ILogger logger, Exception exception);
}
