namespace ProvisioningFleet.Api.Hosting;

/// <summary>A setting is missing or wrong: start-up stops with this message, meant for the operator.</summary>
public sealed class FleetConfigurationException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>A configuration key as an operator sets it in the environment (<c>Fleet:WinRm:Client</c> → <c>Fleet__WinRm__Client</c>).</summary>
    public static string EnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>
    /// For <see cref="AppDomain.UnhandledException"/>: prints the operator's message alone, without a
    /// stack trace that would bury it, and exits with code 2.
    /// </summary>
    public static void ExitWithMessage(object? sender, UnhandledExceptionEventArgs args)
    {
        var exception = args.ExceptionObject as Exception;
        while (exception is not null and not FleetConfigurationException)
        {
            exception = exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerException : exception.InnerException;
        }

        if (exception is not null)
        {
            Console.Error.WriteLine($"ProvisioningFleet cannot start: {exception.Message}");
            Environment.Exit(2);
        }
    }
}
