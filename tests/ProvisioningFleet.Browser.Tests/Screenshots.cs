using Microsoft.Playwright;

namespace ProvisioningFleet.Browser.Tests;

/// <summary>
/// Screenshots kept as test artefacts in <c>artifacts/browser-tests/</c> at the repository root (or
/// under the test output folder when run outside a checkout), one PNG per step named by the test.
/// </summary>
public static class Screenshots
{
    public static string Folder { get; } = Path.Combine(RepositoryRoot() ?? AppContext.BaseDirectory, "artifacts", "browser-tests");

    public static async Task<string> KeepAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    private static string? RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ProvisioningFleet.sln")))
            {
                return directory.FullName;
            }
        }
        return null;
    }
}
