using System.Text;
using System.Text.RegularExpressions;
using AgentPlatform.ControlPlane.Tests.Support;
using Microsoft.Playwright;

namespace AgentPlatform.ControlPlane.Tests.Console;

/// <summary>
/// A browser test of the admin console: a real Chromium talks to the platform's public address (the gateway, which
/// serves the console at <c>/</c>), each test in browser contexts of its own (own cookies, own session). When a test
/// fails, every page it opened is saved (screenshot, HTML, the browser's console) under <see cref="FailureFolder"/>.
/// </summary>
public abstract partial class ConsoleBrowserTest(ConsolePlatformFixture platformFixture, ChromiumFixture chromium) : IAsyncLifetime
{
    public static readonly ViewportSize Desktop = new() { Width = 1280, Height = 800 };

    private readonly List<(IPage Page, StringBuilder Log)> pages = [];
    private readonly List<IBrowserContext> contexts = [];

    protected RunningPlatform Platform { get; private set; } = null!;

    /// <summary>Where a failed test's pages are saved, one folder per test.</summary>
    public static string FailureFolder => Path.Combine(AppContext.BaseDirectory, "TestResults", "console-failures");

    public async ValueTask InitializeAsync()
    {
        // The browser first: without one the test skips (or fails in CI) before a platform is started for nothing.
        await chromium.GetAsync();
        Platform = await platformFixture.GetAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (TestContext.Current.TestState?.Result == TestResult.Failed)
        {
            await SaveFailureAsync();
        }

        foreach (var context in contexts)
        {
            await context.CloseAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>A page in a fresh browser context (no cookies) whose relative URLs go to the gateway.</summary>
    protected async Task<IPage> NewPageAsync(ViewportSize? viewport = null, ColorScheme colorScheme = ColorScheme.Light)
    {
        var browser = await chromium.GetAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Platform.GatewayAddress.ToString(),
            ViewportSize = viewport ?? Desktop,
            ColorScheme = colorScheme,
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        contexts.Add(context);
        context.SetDefaultTimeout((float)ChromiumFixture.ActionTimeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)ChromiumFixture.NavigationTimeout.TotalMilliseconds);

        var page = await context.NewPageAsync();
        var log = new StringBuilder();
        page.Console += (_, message) => log.AppendLine($"console.{message.Type}: {message.Text}");
        page.PageError += (_, error) => log.AppendLine($"page error: {error}");
        page.RequestFailed += (_, request) => log.AppendLine($"request failed: {request.Method} {request.Url} {request.Failure}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                log.AppendLine($"response: {response.Status} {response.Request.Method} {response.Url}");
            }
        };
        pages.Add((page, log));
        return page;
    }

    /// <summary>Fills in and submits the console's sign-in page, which <paramref name="page"/> shows.</summary>
    protected static async Task SubmitSignInAsync(IPage page, string userName, string password)
    {
        await page.GetByTestId("signin-username").FillAsync(userName);
        await page.GetByTestId("signin-password").FillAsync(password);
        await page.GetByTestId("signin-submit").ClickAsync();
    }

    /// <summary>Opens the sign-in page through the gateway and signs in as the bootstrap admin; ends on the console's home.</summary>
    protected static async Task SignInAsAdminAsync(IPage page)
    {
        await page.GotoAsync("/signin");
        await SubmitSignInAsync(page, "admin", RunningPlatform.AdminPassword);
        await Assertions.Expect(page.GetByTestId("signed-in-user")).ToContainTextAsync("admin");
        await WaitForInteractivityAsync(page);
    }

    /// <summary>
    /// Waits until the page's Blazor circuit has rendered it, so clicks reach the server. A prerendered page looks
    /// complete before that, but its buttons do nothing and what is typed into it is replaced by the interactive render.
    /// Only the browser-side renderer writes element references into the DOM (<c>_bl_…</c> attributes, which every
    /// page has through its MudBlazor components), so their presence means the interactive render has arrived.
    /// </summary>
    protected static async Task WaitForInteractivityAsync(IPage page) =>
        await page.WaitForFunctionAsync(
            "() => Array.from(document.querySelectorAll('body *')).some(e => Array.from(e.attributes).some(a => a.name.startsWith('_bl_')))",
            null,
            new PageWaitForFunctionOptions { Timeout = (float)ChromiumFixture.NavigationTimeout.TotalMilliseconds, PollingInterval = 100 });

    /// <summary>Marks the document so a later check can tell it was never reloaded.</summary>
    protected static Task MarkDocumentAsync(IPage page, string mark) => page.EvaluateAsync($"() => window.__agentPlatformMark = '{mark}'");

    protected static Task<string?> ReadDocumentMarkAsync(IPage page) => page.EvaluateAsync<string?>("() => window.__agentPlatformMark ?? null");

    private async Task SaveFailureAsync()
    {
        var folder = Path.Combine(FailureFolder, UnsafeFileCharacters().Replace(TestContext.Current.Test?.TestDisplayName ?? "test", "_"));
        Directory.CreateDirectory(folder);
        for (var i = 0; i < pages.Count; i++)
        {
            var (page, log) = pages[i];
            if (page.IsClosed)
            {
                continue;
            }

            try
            {
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"page{i}.png"), FullPage = true, Timeout = 10_000 });
                await File.WriteAllTextAsync(Path.Combine(folder, $"page{i}.html"), await page.ContentAsync());
                await File.WriteAllTextAsync(Path.Combine(folder, $"page{i}.log"), $"url: {page.Url}{Environment.NewLine}{log}");
            }
            catch (PlaywrightException exception)
            {
                await File.WriteAllTextAsync(Path.Combine(folder, $"page{i}.log"), $"url: {page.Url}{Environment.NewLine}{log}saving the page failed: {exception}");
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"The failed test's pages are saved in {folder}");
    }

    [GeneratedRegex("[^A-Za-z0-9_.-]+")]
    private static partial Regex UnsafeFileCharacters();
}
