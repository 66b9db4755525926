namespace ProvisioningFleet.Api.Hosting;

/// <summary>
/// <c>--demo</c>: a private PostgreSQL and a simulated fleet, for trying the service with nothing set up.
/// The flag becomes the setting <c>Fleet:Demo=true</c>, so tests and containers can set it the usual ways.
/// </summary>
public static class DemoMode
{
    public const string Setting = "Fleet:Demo";

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
}
