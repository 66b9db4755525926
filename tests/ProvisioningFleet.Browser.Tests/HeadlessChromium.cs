using Microsoft.Playwright;

namespace ProvisioningFleet.Browser.Tests;

/// <summary>
/// The machine's own Chromium (Debian's <c>chromium</c> package), driven by Playwright with no browser
/// download. Playwright starts it on a fresh temporary user-data-dir of its own (and deletes it after),
/// and each person in a test gets a separate context. <c>CHROMIUM_PATH</c> overrides the executable.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string DefaultExecutable = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static string Executable => Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : DefaultExecutable;

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"No Chromium at {Executable}: install Debian's 'chromium' package (apt-get install chromium) or set CHROMIUM_PATH.");
        }
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Timeout = 60_000,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
        return new HeadlessChromium(playwright, browser);
    }

    /// <summary>A context of its own per person, so that cookies of one sign-in never leak into another test.</summary>
    public async Task<IPage> NewPageAsync(Uri baseAddress)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
        });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
