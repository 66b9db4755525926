namespace ProvisioningFleet.Bench.Sweep;

/// <summary>The issue's targets as the run meets or misses them; a miss makes the bench exit non-zero.</summary>
public sealed class Targets
{
    private readonly List<(string Name, bool Met, string Figure)> _checks = [];

    public void Check(string name, bool met, string figure)
    {
        _checks.Add((name, met, figure));
        Console.WriteLine($"  {(met ? "met" : "MISSED")}: {name}: {figure}");
    }

    public int Report()
    {
        Console.WriteLine("targets:");
        foreach (var (name, met, figure) in _checks)
        {
            Console.WriteLine($"  {(met ? "met   " : "MISSED")} {name}: {figure}");
        }

        var missed = _checks.Count(c => !c.Met);
        Console.WriteLine(missed == 0 ? "PASS: every target met" : $"MISSED: {missed} of {_checks.Count} targets");
        return missed == 0 ? 0 : 1;
    }
}
