using System.Globalization;
using System.Net;
using AgentPlatform.Console.Audit;
using AgentPlatform.Console.Components.Pages.Audit;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.Domain.Identity;
using Bunit;
using MudBlazor;

namespace AgentPlatform.Console.Tests.Audit;

public sealed class AuditPageTests : ConsoleComponentTest
{
    private const int TotalRecords = 60;

    private string verification = """{"isValid":true,"verifiedRecords":60,"lastHash":"feedface","firstInvalidSequence":null,"problem":null}""";

    public AuditPageTests()
    {
        Platform.Respond = request => Task.FromResult(request.RequestUri!.AbsolutePath switch
        {
            "/api/audit" or "/api/audit/" => FakeHttpHandler.Json(HttpStatusCode.OK, Page(request.RequestUri)),
            "/api/audit/verify" => FakeHttpHandler.Json(HttpStatusCode.OK, verification),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });
        SignInAs(Roles.TenantAdmin);
    }

    [Fact]
    public void The_first_page_lists_the_newest_records()
    {
        var page = Context.Render<AuditTrail>();

        page.WaitForAssertion(() => Assert.Equal(25, page.FindAll("[data-testid=audit-row-sequence]").Count));
        Assert.Equal("/api/audit?page=1&pageSize=25", Assert.Single(Platform.Requests).PathAndQuery);
        Assert.Equal("60", page.FindAll("[data-testid=audit-row-sequence]")[0].TextContent);
        Assert.Contains("user:alice", page.Find("[data-testid=audit-table]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void The_next_page_is_asked_of_the_server()
    {
        var page = Context.Render<AuditTrail>();
        page.WaitForAssertion(() => Assert.Single(Platform.Requests));

        page.Find("[data-testid=audit-pager] button[aria-label='Next page']").Click();

        page.WaitForAssertion(() => Assert.Equal("/api/audit?page=2&pageSize=25", Platform.Requests[^1].PathAndQuery));
        page.WaitForAssertion(() => Assert.Equal("35", page.FindAll("[data-testid=audit-row-sequence]")[0].TextContent));
    }

    [Fact]
    public void A_search_sends_its_filters_and_starts_again_at_the_first_page()
    {
        var page = Context.Render<AuditTrail>();
        page.WaitForAssertion(() => Assert.Single(Platform.Requests));
        page.Find("[data-testid=audit-pager] button[aria-label='Next page']").Click();
        page.WaitForAssertion(() => Assert.Equal(2, Platform.Requests.Count));

        page.Find("input[data-testid=audit-action]").Change("task.submitted");
        page.Find("input[data-testid=audit-actor]").Change("alice");
        page.Find("form[data-testid=audit-search]").Submit();

        page.WaitForAssertion(() => Assert.Equal("/api/audit?page=1&pageSize=25&action=task.submitted&actorId=alice", Platform.Requests[^1].PathAndQuery));
    }

    [Fact]
    public void A_search_that_finds_nothing_says_so()
    {
        Platform.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.OK, """{"items":[],"page":1,"pageSize":25,"totalCount":0}"""));
        var page = Context.Render<AuditTrail>();
        page.WaitForAssertion(() => Assert.Equal("The audit trail has no records yet.", page.Find("[data-testid=audit-empty]").TextContent.Trim()));

        page.Find("input[data-testid=audit-action]").Change("nothing.matches");
        page.Find("form[data-testid=audit-search]").Submit();

        page.WaitForAssertion(() => Assert.Equal("No audit record matches the search.", page.Find("[data-testid=audit-empty]").TextContent.Trim()));
    }

    [Fact]
    public void Verifying_an_intact_chain_says_it_is_intact()
    {
        var page = Context.Render<AuditTrail>();

        page.Find("[data-testid=audit-verify]").Click();

        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-testid=audit-verification]").GetAttribute("data-valid")));
        Assert.Equal("The hash chain is intact.", page.Find("[data-testid=audit-verification-title]").TextContent);
        Assert.Contains("feedface", page.Find("[data-testid=audit-verification]").TextContent, StringComparison.Ordinal);
        Assert.Contains(Platform.Requests, r => r.PathAndQuery == "/api/audit/verify");
    }

    [Fact]
    public void Verifying_a_broken_chain_names_the_record_where_it_breaks()
    {
        verification = """{"isValid":false,"verifiedRecords":56,"lastHash":null,"firstInvalidSequence":57,"problem":"Record 57 does not match its hash."}""";
        var page = Context.Render<AuditTrail>();

        page.Find("[data-testid=audit-verify]").Click();

        page.WaitForAssertion(() => Assert.Equal("false", page.Find("[data-testid=audit-verification]").GetAttribute("data-valid")));
        Assert.Equal("The hash chain is broken at record 57.", page.Find("[data-testid=audit-verification-title]").TextContent);
        Assert.Contains("Record 57 does not match its hash.", page.Find("[data-testid=audit-verification-detail]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_opens_in_a_dialog_with_its_details_and_hashes()
    {
        var dialogs = Context.Render<MudDialogProvider>();
        var page = Context.Render<AuditTrail>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=audit-row-details]")));

        page.FindAll("[data-testid=audit-row-details]")[0].Click();

        dialogs.WaitForAssertion(() => Assert.NotNull(dialogs.Find("[data-testid=audit-record]")));
        Assert.Equal("60", dialogs.Find("[data-testid=audit-record-sequence]").TextContent);
        Assert.Equal(Hash(60), dialogs.Find("[data-testid=audit-record-hash]").TextContent);
        Assert.Equal(Hash(59), dialogs.Find("[data-testid=audit-record-previous-hash]").TextContent);
        Assert.Equal("{\n  \"priority\": 5\n}", dialogs.Find("[data-testid=audit-record-details]").TextContent.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_failed_search_shows_the_problem()
    {
        Platform.Respond = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.Forbidden));
        var page = Context.Render<AuditTrail>();

        page.WaitForAssertion(() => Assert.Equal(PlatformApiExceptionTitle(403), page.Find("[data-testid=api-error-title]").TextContent));
    }

    [Fact]
    public void Details_show_a_dash_when_a_record_has_none()
    {
        var record = Record(1) with { Details = null, TraceId = null };

        var details = Context.Render<AuditRecordDetails>(p => p.Add(c => c.Record, record));

        Assert.Equal("—", details.Find("[data-testid=audit-record-details]").TextContent);
        Assert.Equal(new string('0', 64), details.Find("[data-testid=audit-record-previous-hash]").TextContent);
    }

    private static string PlatformApiExceptionTitle(int status) => Console.Platform.PlatformApiException.DefaultTitle(status);

    private static string Hash(long sequence) => sequence == 0 ? new string('0', 64) : sequence.ToString("x64", CultureInfo.InvariantCulture);

    private static AuditRecord Record(long sequence) => new(
        Guid.CreateVersion7(), sequence, new DateTime(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc).AddMinutes(sequence), "user", "alice",
        "task.submitted", "task", $"task-{sequence}", null, "after", "trace-1", """{"priority":5}""", Hash(sequence - 1), Hash(sequence));

    // Newest first, as the API orders them.
    private static string Page(Uri uri)
    {
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        var (page, size) = (int.Parse(query["page"]!, CultureInfo.InvariantCulture), int.Parse(query["pageSize"]!, CultureInfo.InvariantCulture));
        var items = Enumerable.Range(0, TotalRecords).Select(i => (long)(TotalRecords - i)).Skip((page - 1) * size).Take(size).Select(Record).ToList();
        return System.Text.Json.JsonSerializer.Serialize(new { items, page, pageSize = size, totalCount = TotalRecords }, Console.Platform.PlatformApi.Json);
    }
}
