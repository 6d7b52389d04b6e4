using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentPlatform.ControlPlane.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AgentPlatform.ControlPlane.Tests.Console;

/// <summary>
/// The admin's main journey in a real browser: submit a task, follow it live to its result, find it in the audit
/// trail. A Worker (the embedded runner with the offline model) runs tasks only while a test has started one.
/// </summary>
public sealed partial class ConsoleTaskTests(ConsolePlatformFixture platformFixture, ChromiumFixture chromium)
    : ConsoleBrowserTest(platformFixture, chromium), IClassFixture<ConsolePlatformFixture>, IClassFixture<ChromiumFixture>
{
    // Bounded, and long enough for a task on a busy 2-core machine.
    private static readonly PageAssertionsToHaveURLOptions Navigation = new() { Timeout = (float)ChromiumFixture.NavigationTimeout.TotalMilliseconds };
    private static readonly LocatorAssertionsToHaveAttributeOptions TaskRun = new() { Timeout = 120_000 };

    [Fact]
    public async Task A_task_submitted_in_the_console_is_followed_live_to_its_result_and_found_in_the_audit_trail()
    {
        var page = await NewPageAsync();
        await SignInAsAdminAsync(page);
        await page.GetByTestId("nav-tasks-new").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/tasks/new$"));
        await WaitForInteractivityAsync(page);

        await TaskInput(page).FillAsync("Compare the quarterly revenue of both regions. Then draft a short summary for the board.");
        await page.GetByTestId("submit-task-submit").ClickAsync();

        await Expect(page).ToHaveURLAsync(TaskPage(), Navigation);
        var taskId = TaskPage().Match(page.Url).Groups["id"].Value;
        await Expect(page.GetByTestId("task-id")).ToHaveTextAsync(taskId);
        // No Worker runs yet, so the task waits; the page follows its event stream meanwhile.
        await Expect(page.GetByTestId("task-live")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("task-status")).Not.ToHaveAttributeAsync("data-status", "completed");
        await MarkDocumentAsync(page, taskId);

        await using (Platform.StartWorker())
        {
            await Expect(page.GetByTestId("task-status")).ToHaveAttributeAsync("data-status", "completed", TaskRun);
        }

        // It all arrived on the open page: the document is the same one, never reloaded.
        Assert.Equal(taskId, await ReadDocumentMarkAsync(page));
        Assert.Equal($"/tasks/{taskId}", new Uri(page.Url).AbsolutePath);
        await Expect(page.GetByTestId("task-live")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("task-plan").Locator("li")).Not.ToHaveCountAsync(0);
        var runs = page.GetByTestId("subagent-run");
        await Expect(runs.First).ToBeVisibleAsync();
        Assert.True(await runs.CountAsync() >= 2, "the plan splits the two sentences into a sub-agent run each");
        foreach (var run in await runs.AllAsync())
        {
            await Expect(run).ToHaveAttributeAsync("data-status", "succeeded");
        }

        await Expect(page.GetByTestId("task-result")).ToContainTextAsync("[offline]");
        await Expect(page.GetByTestId("task-error")).ToHaveCountAsync(0);

        // The submission is on the audit trail, under the task's id.
        await page.GetByTestId("nav-audit").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/audit$"));
        await SearchAuditAsync(page, "task.submitted", taskId);
        await Expect(AuditRows(page)).ToHaveCountAsync(1);
        await Expect(AuditRows(page)).ToContainTextAsync($"task/{taskId}");
    }

    [Fact]
    public async Task The_audit_trail_finds_a_task_submission_and_verifies_its_hash_chain()
    {
        var taskId = await SubmitThroughTheApiAsync("Summarise the audit findings of the last quarter.");
        var page = await NewPageAsync();
        await SignInAsAdminAsync(page);
        await page.GotoAsync("/audit");
        await WaitForInteractivityAsync(page);

        await SearchAuditAsync(page, "task.submitted", taskId);

        var row = AuditRows(page);
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("task.submitted");
        await Expect(row).ToContainTextAsync("user:");
        await Expect(row).ToContainTextAsync($"task/{taskId}");
        await row.GetByTestId("audit-row-details").ClickAsync();
        var dialog = page.GetByTestId("audit-record-dialog");
        await Expect(dialog.GetByTestId("audit-record-hash")).ToHaveTextAsync(new Regex("^[0-9a-fA-F]{64}$"));
        await Expect(dialog.GetByTestId("audit-record")).ToContainTextAsync(taskId);
        await Expect(dialog.GetByTestId("audit-record-previous-hash")).ToHaveTextAsync(new Regex("^[0-9a-fA-F]{64}$"));
        // The dialog's test id marks its content; its actions sit beside that, in the dialog.
        await page.GetByRole(AriaRole.Dialog).GetByTestId("audit-record-close").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);

        await page.GetByTestId("audit-verify").ClickAsync();
        var verification = page.GetByTestId("audit-verification");
        await Expect(verification).ToHaveAttributeAsync("data-valid", "true");
        await Expect(verification.GetByTestId("audit-verification-title")).ToHaveTextAsync("The hash chain is intact.");
    }

    internal static ILocator TaskInput(IPage page) =>
        page.Locator("textarea[data-testid=submit-task-input], [data-testid=submit-task-input] textarea").First;

    internal static ILocator AuditRows(IPage page) => page.GetByTestId("audit-table").Locator("tbody tr").Filter(new() { Has = page.GetByTestId("audit-row-sequence") });

    internal static async Task SearchAuditAsync(IPage page, string action, string targetId)
    {
        await AuditField(page, "audit-action").FillAsync(action);
        await AuditField(page, "audit-target-id").FillAsync(targetId);
        await page.GetByTestId("audit-search-submit").ClickAsync();
    }

    private static ILocator AuditField(IPage page, string testId) =>
        page.Locator($"input[data-testid={testId}], [data-testid={testId}] input").First;

    private async Task<string> SubmitThroughTheApiAsync(string input)
    {
        using var client = Platform.CreateClient(await Platform.SignInAsAdminAsync());
        using var response = await client.PostAsJsonAsync("/api/tasks", new { input }, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("task_id").GetString()!;
    }

    [GeneratedRegex("/tasks/(?<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")]
    private static partial Regex TaskPage();
}
