using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ProvisioningFleet.Api.Tests.Deployment;

/// <summary>
/// No Docker engine runs here, so the image is not built in the tests; these check that the Dockerfile
/// refers only to things that exist and keeps the promises the deployment files rely on.
/// </summary>
public sealed partial class DockerfileTests
{
    private readonly Dockerfile _dockerfile = Dockerfile.Parse(RepositoryFiles.Read("Dockerfile"));

    [Fact]
    public void Every_copied_source_exists_in_the_build_context()
    {
        var sources = _dockerfile.ContextSources().ToList();
        Assert.NotEmpty(sources);
        foreach (var source in sources)
        {
            var path = RepositoryFiles.PathOf(source.TrimEnd('/'));
            Assert.True(File.Exists(path) || Directory.Exists(path), $"COPY {source}: no such file or folder in the repository");
        }
    }

    [Fact]
    public void The_dockerignore_keeps_every_copied_source_in_the_context()
    {
        var ignored = RepositoryFiles.Read(".dockerignore")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(pattern => pattern.TrimStart('*').Trim('/'))
            .ToList();
        foreach (var source in _dockerfile.ContextSources())
        {
            var first = source.Split('/')[0];
            Assert.DoesNotContain(first, ignored);
        }
    }

    [Fact]
    public void It_restores_and_publishes_real_projects_with_every_project_file_copied_first()
    {
        var projectPaths = ProjectPattern().Matches(string.Join('\n', _dockerfile.In("build").Where(i => i.Keyword == "RUN").Select(i => i.Arguments)))
            .Select(m => m.Value)
            .Distinct()
            .ToList();
        Assert.Contains("src/ProvisioningFleet.Api/ProvisioningFleet.Api.csproj", projectPaths);
        Assert.Contains("src/ProvisioningFleet.Simulator/ProvisioningFleet.Simulator.csproj", projectPaths);

        // Restore runs before the sources are copied, so each project the API references must be copied by itself.
        var copiedProjects = _dockerfile.ContextSources().Where(s => s.EndsWith(".csproj", StringComparison.Ordinal)).ToHashSet();
        foreach (var project in ProjectClosure("src/ProvisioningFleet.Api/ProvisioningFleet.Api.csproj"))
        {
            Assert.Contains(project, copiedProjects);
        }
    }

    [Fact]
    public void It_is_multi_stage_and_every_runtime_stage_runs_as_a_non_root_user()
    {
        Assert.True(_dockerfile.Stages.Count() >= 2);
        foreach (var stage in _dockerfile.Stages.Where(s => _dockerfile.In(s).Any(i => i.Keyword == "ENTRYPOINT")))
        {
            var user = _dockerfile.In(stage).Last(i => i.Keyword == "USER").Arguments;
            Assert.NotEqual("root", user);
            Assert.NotEqual("0", user);
        }
        Assert.Equal("api", _dockerfile.FinalStage);
    }

    [Fact]
    public void Entry_points_name_the_assemblies_the_projects_build()
    {
        var entryPoints = _dockerfile.Instructions.Where(i => i.Keyword == "ENTRYPOINT")
            .ToDictionary(i => i.Stage, i => JsonSerializer.Deserialize<string[]>(i.Arguments)!);
        Assert.Equal(["dotnet", "ProvisioningFleet.Api.dll"], entryPoints["api"]);
        Assert.Equal(["dotnet", "ProvisioningFleet.Simulator.dll"], entryPoints["simulator"]);
        Assert.True(File.Exists(RepositoryFiles.PathOf("src/ProvisioningFleet.Api/ProvisioningFleet.Api.csproj")));
        Assert.True(File.Exists(RepositoryFiles.PathOf("src/ProvisioningFleet.Simulator/ProvisioningFleet.Simulator.csproj")));
    }

    [Fact]
    public void The_exposed_port_is_the_port_the_service_listens_on()
    {
        var env = _dockerfile.Instructions.Single(i => i.Keyword == "ENV" && i.Arguments.Contains("ASPNETCORE_HTTP_PORTS")).Arguments;
        var port = HttpPortsPattern().Match(env).Groups["port"].Value;
        Assert.Equal(DeploymentPorts.Http.ToString(), port);
        Assert.Contains(_dockerfile.Instructions, i => i.Keyword == "EXPOSE" && i.Arguments == port);
    }

    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var next))
        {
            if (!seen.Add(next))
            {
                continue;
            }
            var directory = Path.GetDirectoryName(next)!;
            foreach (var reference in XDocument.Load(RepositoryFiles.PathOf(next)).Descendants("ProjectReference"))
            {
                var relative = Path.GetRelativePath(RepositoryFiles.Root, Path.GetFullPath(Path.Combine(RepositoryFiles.PathOf(directory), reference.Attribute("Include")!.Value.Replace('\\', '/'))));
                pending.Push(relative.Replace(Path.DirectorySeparatorChar, '/'));
            }
        }
        return seen;
    }

    [GeneratedRegex(@"src/[\w.]+/[\w.]+\.csproj")]
    private static partial Regex ProjectPattern();

    [GeneratedRegex(@"ASPNETCORE_HTTP_PORTS=(?<port>\d+)")]
    private static partial Regex HttpPortsPattern();
}

internal static class DeploymentPorts
{
    /// <summary>The one HTTP port of the service in a container: Dockerfile, compose and Kubernetes agree on it.</summary>
    public const int Http = 8080;
}
