using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ProvisioningFleet.Browser.Tests;

internal static partial class SignedInPages
{
    private static readonly ConditionalWeakTable<IPage, ConcurrentQueue<string>> Refusals = new();

    /// <summary>Opens <paramref name="path"/> in a fresh browser context, is sent to the sign-in page, signs in with <paramref name="apiKey"/> and lands back on it.</summary>
    public static async Task<IPage> OpenAsync(OverviewFleet fleet, string apiKey, string path)
    {
        var page = await fleet.Chromium.NewPageAsync(fleet.BaseAddress);
        var refusals = Refusals.GetValue(page, _ => new ConcurrentQueue<string>());
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                refusals.Enqueue($"{page.Url}: {message.Text}");
            }
        };
        await page.GotoAsync(path);
        await Expect(page).ToHaveURLAsync(SignInPage());
        await page.FillAsync("#apiKey", apiKey);
        await page.ClickAsync("button[type=submit]");
        await Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(path) + "$"));
        return page;
    }

    /// <summary>What the browser refused to load or run on this page because of the Content-Security-Policy (Chromium reports each on the console).</summary>
    public static IReadOnlyCollection<string> PolicyRefusals(IPage page) => Refusals.TryGetValue(page, out var refusals) ? refusals : [];

    [GeneratedRegex(@"/signin\?ReturnUrl=", RegexOptions.IgnoreCase)]
    public static partial Regex SignInPage();
}
