namespace ProvisioningFleet.Api.Access;

/// <summary>A generated Admin key kept in a file instead of the log: readable by the service's account only, from the moment it exists.</summary>
public static class AdminKeyFile
{
    /// <summary>The strong key the file already holds (a restart, or a file a deployment prepared); otherwise a new one written there.</summary>
    public static string ReadOrCreate(string path)
    {
        if (File.Exists(path) && File.ReadAllText(path).Trim() is var existing && AdminKeyStrength.Weakness(existing) is null)
        {
            return existing;
        }

        var key = ApiKeyStore.NewSecret();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // A weak file is replaced, not rewritten: a new file gets the owner-only mode below, an old one keeps its own.
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(new FileStream(path, options));
        writer.WriteLine(key);
        return key;
    }
}
