using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace ProvisioningFleet.Api.Tests.Deployment;

/// <summary>The repository's deployment files, read from the checkout the tests were built from.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>Every YAML document in the file, as dictionaries and lists; throws on a syntax error.</summary>
    public static IReadOnlyList<Dictionary<object, object>> ReadYaml(string relative)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(Read(relative)));
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<object, object>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (deserializer.Deserialize<object>(parser) is Dictionary<object, object> document)
            {
                documents.Add(document);
            }
        }
        return documents;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ProvisioningFleet.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"No ProvisioningFleet.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>Walks the untyped YAML graph by keys, failing with the path when a key is missing.</summary>
internal static class YamlPath
{
    public static object At(this object node, params object[] path)
    {
        var current = node;
        foreach (var step in path)
        {
            current = (current, step) switch
            {
                (Dictionary<object, object> map, string key) when map.TryGetValue(key, out var value) => value,
                (List<object> list, int index) when index < list.Count => list[index],
                _ => throw new KeyNotFoundException($"No '{step}' in the YAML path {string.Join('.', path)}."),
            };
        }
        return current;
    }

    public static string Text(this object node, params object[] path) => (string)node.At(path);

    public static Dictionary<object, object> Map(this object node, params object[] path) => (Dictionary<object, object>)node.At(path);

    public static List<object> List(this object node, params object[] path) => (List<object>)node.At(path);

    public static object? Find(this object node, params object[] path)
    {
        try
        {
            return node.At(path);
        }
        catch (KeyNotFoundException)
        {
            return null;
        }
    }
}
