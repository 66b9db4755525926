using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ProvisioningFleet.Browser.Tests;

internal static partial class SignedInPages
{
    /// <summary>Opens <paramref name="path"/> in a fresh browser context, is sent to the sign-in page, signs in with <paramref name="apiKey"/> and lands back on it.</summary>
    public static async Task<IPage> OpenAsync(OverviewFleet fleet, string apiKey, string path)
    {
        var page = await fleet.Chromium.NewPageAsync(fleet.BaseAddress);
        await page.GotoAsync(path);
        await Expect(page).ToHaveURLAsync(SignInPage());
        await page.FillAsync("#apiKey", apiKey);
        await page.ClickAsync("button[type=submit]");
        await Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(path) + "$"));
        return page;
    }

    [GeneratedRegex(@"/signin\?ReturnUrl=", RegexOptions.IgnoreCase)]
    public static partial Regex SignInPage();
}
