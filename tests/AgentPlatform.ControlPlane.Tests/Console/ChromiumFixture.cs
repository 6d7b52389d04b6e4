using AgentPlatform.Testing;
using Microsoft.Playwright;

namespace AgentPlatform.ControlPlane.Tests.Console;

/// <summary>
/// One headless Chromium per test class, launched on first use. The browser is the machine's own (Debian's
/// <c>chromium</c>, or <see cref="PathVariable"/>): Playwright never downloads one. Where there is none the browser
/// tests skip on a laptop and fail in CI (<see cref="TestInfrastructure.RequireVariable"/>), like the adapter tests.
/// </summary>
public sealed class ChromiumFixture : IAsyncDisposable
{
    /// <summary>Optional: the Chromium executable, when it is not <see cref="DefaultPath"/>.</summary>
    public const string PathVariable = "AGENTPLATFORM_CHROMIUM";

    public const string DefaultPath = "/usr/bin/chromium";

    // Generous for a 2-core CI machine running the whole suite in parallel, bounded so a hang still fails.
    public static readonly TimeSpan ActionTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan NavigationTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan ExpectTimeout = TimeSpan.FromSeconds(30);

    private static readonly string[] Arguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic",
    ];

    private readonly SemaphoreSlim gate = new(1, 1);
    private IPlaywright? playwright;
    private IBrowser? browser;

    public async Task<IBrowser> GetAsync()
    {
        var executable = FindExecutable();
        await gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (browser is null)
            {
                Assertions.SetDefaultExpectTimeout((float)ExpectTimeout.TotalMilliseconds);
                playwright = await Playwright.CreateAsync();
                browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = executable,
                    Headless = true,
                    Args = Arguments,
                    Timeout = (float)NavigationTimeout.TotalMilliseconds,
                });
            }

            return browser;
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.CloseAsync();
            await browser.DisposeAsync();
        }

        playwright?.Dispose();
        gate.Dispose();
    }

    private static string FindExecutable()
    {
        var configured = Environment.GetEnvironmentVariable(PathVariable);
        var path = string.IsNullOrEmpty(configured) ? DefaultPath : configured;
        if (File.Exists(path))
        {
            return path;
        }

        var reason = $"Chromium is not installed at {path}: install it ('apt-get install chromium') or set {PathVariable} to run the browser tests.";
        if (TestInfrastructure.IsRequired)
        {
            throw new InvalidOperationException($"{reason} {TestInfrastructure.RequireVariable} is set, so a missing browser fails the run.");
        }

        Assert.Skip(reason);
        return null!;
    }
}
