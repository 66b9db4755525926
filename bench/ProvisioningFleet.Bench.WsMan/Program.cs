using ProvisioningFleet.Bench.WsMan;
using ProvisioningFleet.WsMan;

// dotnet <dll> <basic|ntlm|negotiate|kerberos> [concurrency] [seconds] [--managed-ntlm] [--endpoint URL --user DOMAIN\user:password] [--telemetry] [--fresh-connections]
// dotnet <dll> parse [iterations]
if (args.Contains("--managed-ntlm"))
{
    AppContext.SetSwitch("System.Net.Security.UseManagedNtlm", true);
}

if (args.FirstOrDefault() == "parse")
{
    return ReplyParse.Run(int.Parse(args.ElementAtOrDefault(1) ?? "200000", System.Globalization.CultureInfo.InvariantCulture));
}

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || args[i - 1] is not ("--endpoint" or "--user"))).ToArray();
var authentication = Enum.Parse<WsManAuthentication>(positional.ElementAtOrDefault(0) ?? "basic", ignoreCase: true);
var concurrency = int.Parse(positional.ElementAtOrDefault(1) ?? "8", System.Globalization.CultureInfo.InvariantCulture);
var seconds = int.Parse(positional.ElementAtOrDefault(2) ?? "10", System.Globalization.CultureInfo.InvariantCulture);
var endpoint = Option("--endpoint") is { } url ? new Uri(url) : null;
var credential = Option("--user") is { } user ? UserOption.Parse(user) : null;
using var telemetry = args.Contains("--telemetry") ? new ServiceTelemetry() : null;
return await new InvokeThroughput(authentication, concurrency, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(5), endpoint, credential, telemetry,
    FreshConnections: args.Contains("--fresh-connections")).RunAsync();
