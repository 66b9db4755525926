using System.Text.RegularExpressions;

namespace ProvisioningFleet.Api.Tests.Deployment;

/// <summary>Just enough of a Dockerfile reader to check what the file refers to: stages and instructions.</summary>
internal sealed record DockerInstruction(string Stage, string Keyword, string Arguments);

internal sealed partial class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerInstruction> instructions) => Instructions = instructions;

    public IReadOnlyList<DockerInstruction> Instructions { get; }

    public IEnumerable<string> Stages => Instructions.Where(i => i.Keyword == "FROM").Select(i => i.Stage);

    public string FinalStage => Stages.Last();

    public IEnumerable<DockerInstruction> In(string stage) => Instructions.Where(i => i.Stage == stage);

    public static Dockerfile Parse(string text)
    {
        var logical = new List<string>();
        var pending = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            logical.Add(pending + line);
            pending = "";
        }

        var instructions = new List<DockerInstruction>();
        var stage = "";
        var stageCount = 0;
        foreach (var line in logical.Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            var split = line.IndexOf(' ');
            var keyword = line[..split].ToUpperInvariant();
            var arguments = line[(split + 1)..].Trim();
            if (keyword == "FROM")
            {
                var named = FromPattern().Match(arguments);
                stage = named.Success ? named.Groups["name"].Value : $"#{stageCount}";
                stageCount++;
            }
            instructions.Add(new DockerInstruction(stage, keyword, arguments));
        }
        return new Dockerfile(instructions);
    }

    /// <summary>The build-context sources of every COPY/ADD without <c>--from</c>.</summary>
    public IEnumerable<string> ContextSources() =>
        Instructions
            .Where(i => i.Keyword is "COPY" or "ADD")
            .Select(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(words => !words.Any(w => w.StartsWith("--from=", StringComparison.Ordinal)))
            .SelectMany(words => words.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).SkipLast(1));

    [GeneratedRegex(@"\bAS\s+(?<name>[\w.-]+)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex FromPattern();
}
