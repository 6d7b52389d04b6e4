using System.Collections.Concurrent;
using System.Diagnostics;
using AgentPlatform.ServiceDefaults;
using AgentPlatform.Worker.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.Worker.Tests.Tools;

/// <summary><c>http_fetch</c> against a real Kestrel server on loopback, which the tests allow explicitly.</summary>
public sealed class HttpFetchToolTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, int> hits = new(StringComparer.Ordinal);
    private WebApplication? server;
    private int port;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Origin => $"http://127.0.0.1:{port}";

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        server = builder.Build();
        server.Use((context, next) =>
        {
            hits.AddOrUpdate(context.Request.Path.Value ?? "", 1, (_, n) => n + 1);
            return next(context);
        });
        server.MapGet("/text", () => Results.Text("hello from kestrel", "text/plain; charset=utf-8"));
        server.MapGet("/json", () => Results.Json(new { greeting = "hi" }));
        server.MapGet("/big", () => Results.Text(new string('a', 1024 * 1024), "text/plain"));
        server.MapGet("/binary", () => Results.Bytes(new byte[100], "application/octet-stream"));
        server.MapGet("/latin1", () => Results.Bytes([0x63, 0x61, 0x66, 0xE9], "text/plain; charset=iso-8859-1"));
        server.MapGet("/redirect-here", () => Results.Redirect("/text"));
        server.MapGet("/redirect-away", (HttpContext context) => Results.Redirect($"http://localhost:{context.Connection.LocalPort}/text"));
        server.MapGet("/redirect-loop", () => Results.Redirect("/redirect-loop"));
        server.MapGet("/unavailable", () => Results.StatusCode(503));
        server.MapGet("/slow", async (CancellationToken cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
            return Results.Text("late");
        });
        await server.StartAsync(Ct);
        port = new Uri(server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_allowed_host_returns_status_content_type_and_text_when_loopback_is_explicitly_allowed()
    {
        await using var host = await StartAsync();

        var result = await Fetch(host, $"{Origin}/text");

        Assert.Equal(200, result.Status);
        Assert.Equal("text/plain; charset=utf-8", result.ContentType);
        Assert.Equal("hello from kestrel", result.Text);
        Assert.False(result.Truncated);
        var json = await Fetch(host, $"{Origin}/json");
        Assert.Equal("{\"greeting\":\"hi\"}", json.Text);
        Assert.Equal("café", (await Fetch(host, $"{Origin}/latin1")).Text);
    }

    [Fact]
    public async Task Error_statuses_are_returned_once_without_retries_even_with_the_service_defaults()
    {
        // The service defaults put a retrying resilience handler and service discovery on every HttpClient.
        await using var host = await StartAsync(configure: builder => builder.AddServiceDefaults());

        var result = await Fetch(host, $"{Origin}/unavailable");

        Assert.Equal(503, result.Status);
        Assert.Equal(1, hits.GetValueOrDefault("/unavailable"));
    }

    [Fact]
    public async Task Service_discovery_names_do_not_resolve_to_platform_services()
    {
        await using var host = await StartAsync(
            new() { ["Tools:HttpFetch:AllowedHosts:1"] = "controlplane", ["services:controlplane:http:0"] = Origin },
            builder => builder.AddServiceDefaults());

        var error = await Assert.ThrowsAsync<ToolException>(() => Fetch(host, "http://controlplane/text"));

        Assert.Equal("fetch_failed", error.Code);
        Assert.Equal(0, hits.GetValueOrDefault("/text"));
    }

    [Fact]
    public async Task A_host_not_on_the_allowlist_is_refused_before_any_request()
    {
        await using var host = await StartAsync();

        var error = await Assert.ThrowsAsync<ToolException>(() => Fetch(host, $"http://localhost:{port}/text"));

        Assert.Equal("egress_denied", error.Code);
        Assert.Contains("'localhost'", error.Message, StringComparison.Ordinal);
        Assert.Empty(hits);
    }

    [Fact]
    public async Task An_allowed_host_at_a_private_address_is_refused_by_default()
    {
        await using var host = await StartAsync(
            new() { ["Tools:HttpFetch:AllowedHosts:1"] = "localhost", ["Tools:HttpFetch:AllowedHosts:2"] = "169.254.169.254" },
            allowLoopback: false);

        foreach (var url in (string[])[$"{Origin}/text", $"http://localhost:{port}/text", "http://169.254.169.254/latest/meta-data/"])
        {
            var error = await Assert.ThrowsAsync<ToolException>(() => Fetch(host, url));
            Assert.Equal("egress_denied", error.Code);
            Assert.Contains("non-public address", error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(hits);
    }

    [Fact]
    public async Task Bodies_over_the_cap_are_cut_off()
    {
        await using var host = await StartAsync(new() { ["Tools:HttpFetch:MaxResponseBytes"] = "4096" });

        var result = await Fetch(host, $"{Origin}/big");

        Assert.True(result.Truncated);
        Assert.Equal(4096, result.Text.Length);
    }

    [Fact]
    public async Task Redirects_are_followed_on_allowed_hosts_and_refused_to_others()
    {
        await using var host = await StartAsync();

        var followed = await Fetch(host, $"{Origin}/redirect-here");
        Assert.Equal($"{Origin}/text", followed.Url);
        Assert.Equal("hello from kestrel", followed.Text);

        var error = await Assert.ThrowsAsync<ToolException>(() => Fetch(host, $"{Origin}/redirect-away"));
        Assert.Equal("egress_denied", error.Code);
        Assert.Contains("redirected", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, hits.GetValueOrDefault("/text"));

        var loop = await Assert.ThrowsAsync<ToolException>(() => Fetch(host, $"{Origin}/redirect-loop"));
        Assert.Equal("too_many_redirects", loop.Code);
    }

    [Fact]
    public async Task A_slow_server_times_out()
    {
        await using var host = await StartAsync(new() { ["Tools:HttpFetch:Timeout"] = "00:00:01" });
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ToolException>(() => Fetch(host, $"{Origin}/slow"));

        Assert.Equal("timeout", error.Code);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Only_text_is_returned_and_only_http_urls_without_credentials_are_fetched()
    {
        await using var host = await StartAsync();

        Assert.Equal("unsupported_content_type", (await Assert.ThrowsAsync<ToolException>(() => Fetch(host, $"{Origin}/binary"))).Code);
        foreach (var url in (string[])["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/", "/text", "", $"http://user:secret@127.0.0.1:{port}/text"])
        {
            Assert.Equal(ToolException.InvalidArguments, (await Assert.ThrowsAsync<ToolException>(() => Fetch(host, url))).Code);
        }

        Assert.Equal(1, hits.GetValueOrDefault("/binary"));
        Assert.Equal(0, hits.GetValueOrDefault("/text"));
    }

    [Fact]
    public async Task An_invalid_egress_configuration_stops_the_host_at_start()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => StartAsync(new()
        {
            ["Tools:HttpFetch:AllowedHosts:1"] = "*",
            ["Tools:HttpFetch:AllowedHosts:2"] = "https://example.com/",
            ["Tools:HttpFetch:AllowedPrivateNetworks:1"] = "10.0.0.1",
        }));

        Assert.Equal(3, error.Failures.Count());
    }

    private static Task<ToolHost> StartAsync(
        Dictionary<string, string?>? settings = null, Action<Microsoft.Extensions.Hosting.IHostApplicationBuilder>? configure = null, bool allowLoopback = true)
    {
        var all = new Dictionary<string, string?> { ["Tools:HttpFetch:AllowedHosts:0"] = "127.0.0.1" };
        if (allowLoopback)
        {
            all["Tools:HttpFetch:AllowedPrivateNetworks:0"] = "127.0.0.0/8";
        }

        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        return ToolHost.StartAsync(all, configure);
    }

    private static Task<HttpFetchResult> Fetch(ToolHost host, string url) => host.Tool<HttpFetchTool>().FetchAsync(url, Ct);
}
