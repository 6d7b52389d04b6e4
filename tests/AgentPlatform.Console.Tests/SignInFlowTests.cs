using System.Net;
using System.Text.RegularExpressions;
using AgentPlatform.Console.Authentication;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.Domain.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Console.Tests;

/// <summary>
/// The console in-process with its real pipeline (cookie, session store, antiforgery, authorization); only the control
/// plane is fake. Drives it like a browser: redirects are followed by hand so each one can be checked.
/// </summary>
public sealed partial class SignInFlowTests : IAsyncLifetime
{
    private const string Password = "Correct-Horse-Battery-Staple-1";

    // Long, so a cookie that carried it could not be shorter than it.
    private static readonly string OperatorToken = TestTokens.AccessToken("user-1", "acme", "alice" + new string('x', 3000), Roles.Operator);
    private static readonly string ViewerToken = TestTokens.AccessToken("user-2", "acme", "victor", Roles.Viewer);

    private const string TaskId = "0193a4b0-0000-7000-8000-0000000000aa";

    private readonly FakeHttpHandler controlPlane = new();
    private readonly WebApplicationFactory<Program> console;

    public SignInFlowTests()
    {
        controlPlane.Respond = request => Task.FromResult(Answer(request));
        console = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("Console:ControlPlaneUrl", "http://controlplane.test");
            web.ConfigureServices(services => services.ConfigureHttpClientDefaults(http =>
                http.ConfigurePrimaryHttpMessageHandler(() => new Forwarder(controlPlane))));
        });
    }

    [Fact]
    public async Task A_page_needs_sign_in_and_sign_in_returns_to_it_with_a_cookie_that_holds_only_a_session_key()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = Browser();

        using var page = await browser.GetAsync(new Uri("/tasks?status=running", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/signin?returnUrl=%2Ftasks%3Fstatus%3Drunning", page.Headers.Location?.OriginalString);

        using var signedIn = await SignInAsync(browser, "alice", Password, "/signin?returnUrl=%2Ftasks%3Fstatus%3Drunning", ct);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/tasks?status=running", signedIn.Headers.Location?.OriginalString);
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith(ConsoleAuthenticationExtensions.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.True(cookie.Length < OperatorToken.Length / 2, $"The cookie has {cookie.Length} characters: it carries more than a session key.");

        using var tasks = await browser.GetAsync(new Uri("/tasks?status=running", UriKind.Relative), ct);
        var html = await tasks.Content.ReadAsStringAsync(ct);
        Assert.Equal(HttpStatusCode.OK, tasks.StatusCode);
        Assert.Contains("<title>Tasks · AgentPlatform</title>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(OperatorToken, html, StringComparison.Ordinal);
        Assert.DoesNotContain("refresh-token-1", html, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, html, StringComparison.Ordinal);

        // A page that reads the platform while it prerenders: the token goes to the API, never to the page.
        using var detail = await browser.GetAsync(new Uri($"/tasks/{TaskId}", UriKind.Relative), ct);
        var detailHtml = await detail.Content.ReadAsStringAsync(ct);
        Assert.Equal(HttpStatusCode.OK, detail.StatusCode);
        Assert.Contains("data-testid=\"task-status\" data-status=\"completed\"", detailHtml, StringComparison.Ordinal);
        Assert.Contains("The answer", detailHtml, StringComparison.Ordinal);
        Assert.DoesNotContain(OperatorToken, detailHtml, StringComparison.Ordinal);
        var apiCall = Assert.Single(controlPlane.Requests, r => r.PathAndQuery == $"/api/tasks/{TaskId}");
        Assert.Equal("Bearer " + OperatorToken, apiCall.Headers["Authorization"]);
    }

    [Fact]
    public async Task Wrong_credentials_say_so_without_echoing_the_password()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = Browser();

        using var refused = await SignInAsync(browser, "alice", "wrong-password-123", "/signin", ct);
        var html = await refused.Content.ReadAsStringAsync(ct);

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("The user name or password is wrong.", html, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-123", html, StringComparison.Ordinal);
        Assert.False(refused.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(ConsoleAuthenticationExtensions.CookieName, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_return_url_to_another_site_is_ignored()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = Browser();

        using var signedIn = await SignInAsync(browser, "alice", Password, "/signin?returnUrl=%2F%2Fevil.example%2F", ct);

        Assert.Equal("/", signedIn.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_page_the_user_lacks_the_permission_for_answers_with_the_403_notice()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = Browser();
        (await SignInAsync(browser, "victor", Password, "/signin", ct)).Dispose();

        using var submit = await browser.GetAsync(new Uri("/tasks/new", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.Redirect, submit.StatusCode);
        Assert.StartsWith("/forbidden", submit.Headers.Location?.OriginalString, StringComparison.Ordinal);

        using var forbidden = await browser.GetAsync(submit.Headers.Location, ct);
        Assert.Contains("data-testid=\"forbidden\"", await forbidden.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_out_revokes_the_refresh_token_and_ends_the_session()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = Browser();
        (await SignInAsync(browser, "alice", Password, "/signin", ct)).Dispose();
        using var status = await browser.GetAsync(new Uri("/status", UriKind.Relative), ct);
        var antiforgery = AntiforgeryToken(await status.Content.ReadAsStringAsync(ct));

        using var signOut = await browser.PostAsync(new Uri("/signout", UriKind.Relative),
            new FormUrlEncodedContent([new("__RequestVerificationToken", antiforgery)]), ct);

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal("/signin", signOut.Headers.Location?.OriginalString);
        var revoke = Assert.Single(controlPlane.Requests, r => r.PathAndQuery == "/auth/revoke");
        Assert.Contains("token=refresh-token-1", revoke.Body, StringComparison.Ordinal);
        using var after = await browser.GetAsync(new Uri("/status", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/signin", after.Headers.Location?.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_out_without_an_antiforgery_token_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = Browser();
        (await SignInAsync(browser, "alice", Password, "/signin", ct)).Dispose();

        using var signOut = await browser.PostAsync(new Uri("/signout", UriKind.Relative), new FormUrlEncodedContent([]), ct);

        Assert.Equal(HttpStatusCode.BadRequest, signOut.StatusCode);
        Assert.DoesNotContain(controlPlane.Requests, r => r.PathAndQuery == "/auth/revoke");
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await console.DisposeAsync();
        controlPlane.Dispose();
    }

    private HttpClient Browser() => console.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string userName, string password, string signInUrl, CancellationToken ct)
    {
        using var form = await browser.GetAsync(new Uri(signInUrl, UriKind.Relative), ct);
        var html = await form.Content.ReadAsStringAsync(ct);
        Assert.Contains("data-testid=\"signin-submit\"", html, StringComparison.Ordinal);
        return await browser.PostAsync(new Uri(signInUrl, UriKind.Relative), new FormUrlEncodedContent(
        [
            new("_handler", "signin"),
            new("__RequestVerificationToken", AntiforgeryToken(html)),
            new("Input.UserName", userName),
            new("Input.Password", password),
        ]), ct);
    }

    private static string AntiforgeryToken(string html) =>
        AntiforgeryField().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new InvalidOperationException("No antiforgery token on the page.");

    private static HttpResponseMessage Answer(HttpRequestMessage request)
    {
        var path = request.RequestUri!.AbsolutePath;
        if (path == "/auth/token")
        {
            var form = request.Content!.ReadAsStringAsync().GetAwaiter().GetResult();
            var token = form.Contains("username=alice", StringComparison.Ordinal) ? OperatorToken
                : form.Contains("username=victor", StringComparison.Ordinal) ? ViewerToken
                : null;
            return token is not null && form.Contains("password=" + Uri.EscapeDataString(Password).Replace("%20", "+", StringComparison.Ordinal), StringComparison.Ordinal)
                ? FakeHttpHandler.Json(HttpStatusCode.OK, $$"""{"access_token":"{{token}}","token_type":"Bearer","expires_in":900,"refresh_token":"refresh-token-1"}""")
                : FakeHttpHandler.Json(HttpStatusCode.BadRequest, """{"error":"invalid_grant","error_description":"The user name or password is wrong."}""");
        }

        return path switch
        {
            "/auth/revoke" => new HttpResponseMessage(HttpStatusCode.OK),
            "/api/tasks/" + TaskId => FakeHttpHandler.Json(HttpStatusCode.OK, $$"""
                {"task_id":"{{TaskId}}","status":"completed","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","main_agent_id":"main","priority":5,
                 "token_budget":null,"sub_agents":[],"input":{"content_type":"text/plain","size":14,"context_ref_id":null},"submitted_by":"user-1",
                 "created_at":"2026-11-26T09:00:00Z","updated_at":"2026-11-26T09:00:05Z","started_at":"2026-11-26T09:00:01Z",
                 "completed_at":"2026-11-26T09:00:05Z","duration_ms":4000,"cancel_requested_at":null,"steps":[],
                 "usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15,"cost_micros":3},"result":"The answer","result_ref_id":null,
                 "result_size":10,"error":null,"judge":{"score":0.9,"passed":true} }
                """),
            _ => FakeHttpHandler.Json(HttpStatusCode.OK, "{}"),
        };
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    /// <summary>Hands each request to the shared fake without letting the client factory dispose it.</summary>
    private sealed class Forwarder(FakeHttpHandler target) : HttpMessageHandler
    {
        private readonly HttpMessageInvoker invoker = new(target, disposeHandler: false);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            invoker.SendAsync(request, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            invoker.Dispose();
            base.Dispose(disposing);
        }
    }
}
