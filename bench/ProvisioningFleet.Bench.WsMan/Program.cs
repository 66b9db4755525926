using ProvisioningFleet.Bench.WsMan;
using ProvisioningFleet.WsMan;

// dotnet run -c Release --project bench/ProvisioningFleet.Bench.WsMan -- <basic|ntlm|negotiate> [concurrency] [seconds] [--managed-ntlm]
if (args.Contains("--managed-ntlm"))
{
    AppContext.SetSwitch("System.Net.Security.UseManagedNtlm", true);
}

var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var authentication = Enum.Parse<WsManAuthentication>(positional.ElementAtOrDefault(0) ?? "basic", ignoreCase: true);
var concurrency = int.Parse(positional.ElementAtOrDefault(1) ?? "8", System.Globalization.CultureInfo.InvariantCulture);
var seconds = int.Parse(positional.ElementAtOrDefault(2) ?? "10", System.Globalization.CultureInfo.InvariantCulture);
return await new InvokeThroughput(authentication, concurrency, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(5)).RunAsync();
