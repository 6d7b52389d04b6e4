using System.Collections.Concurrent;
using System.Net;
using AgentPlatform.Gateway.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.Gateway.Tests.Support;

/// <summary>
/// A real Kestrel app that stands in for every backend of the gateway: it serves the JWKS of
/// <see cref="TestTokens"/>, answers the API key token exchange of the control plane's token endpoint, and
/// echoes every other request (method, path, headers, body length) as JSON.
/// </summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, ApiKeyGrant> apiKeys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> exchanges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> gates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> arrivals = new(StringComparer.Ordinal);

    private TestBackend(WebApplication app, TestTokens tokens)
    {
        this.app = app;
        Tokens = tokens;
    }

    public TestTokens Tokens { get; }

    public Uri Address { get; private set; } = null!;

    /// <summary>Every API key the backend ever saw anywhere in a request (it should see none).</summary>
    public ConcurrentBag<string> LeakedApiKeys { get; } = [];

    public static async Task<TestBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var backend = new TestBackend(app, new TestTokens());

        app.MapGet("/.well-known/jwks.json", () => Results.Text(backend.Tokens.JwksJson, "application/json"));
        app.MapPost("/auth/token", (Func<HttpContext, Task<IResult>>)backend.TokenAsync);
        app.Map("/{**path}", (Func<HttpContext, Task<IResult>>)backend.EchoAsync);

        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        backend.Address = new Uri(address);
        return backend;
    }

    /// <summary>Registers an API key the token endpoint accepts, standing for a client of <paramref name="tenantId"/>.</summary>
    public void AddApiKey(string apiKey, string tenantId, string apiKeyId, TimeSpan? tokenLifetime = null, HttpStatusCode? failWith = null) =>
        apiKeys[apiKey] = new ApiKeyGrant(tenantId, apiKeyId, tokenLifetime ?? TimeSpan.FromMinutes(15), failWith);

    /// <summary>How many exchanges of <paramref name="apiKey"/> reached the token endpoint.</summary>
    public int ExchangesOf(string apiKey) => exchanges.GetValueOrDefault(apiKey);

    /// <summary>Completes once the first exchange of <paramref name="apiKey"/> has reached the token endpoint.</summary>
    public Task ExchangeArrivedAsync(string apiKey) => Arrival(apiKey).Task;

    /// <summary>Holds every exchange of <paramref name="apiKey"/> until the returned source is completed.</summary>
    public TaskCompletionSource HoldExchangesOf(string apiKey) =>
        gates.GetOrAdd(apiKey, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public async ValueTask DisposeAsync()
    {
        foreach (var gate in gates.Values)
        {
            gate.TrySetResult();
        }

        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
        Tokens.Dispose();
    }

    private TaskCompletionSource Arrival(string apiKey) =>
        arrivals.GetOrAdd(apiKey, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private async Task<IResult> TokenAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"] != ApiKeyExchange.TokenExchangeGrantType)
        {
            return await EchoAsync(context, form.Count);
        }

        var apiKey = form["subject_token"].ToString();
        exchanges.AddOrUpdate(apiKey, 1, (_, count) => count + 1);
        Arrival(apiKey).TrySetResult();
        if (gates.TryGetValue(apiKey, out var gate))
        {
            await gate.Task.WaitAsync(context.RequestAborted);
        }

        if (form["subject_token_type"] != ApiKeyExchange.ApiKeyTokenType || !apiKeys.TryGetValue(apiKey, out var grant))
        {
            return Results.Json(new { error = "invalid_grant", error_description = "The API key is not valid." }, statusCode: 400);
        }

        if (grant.FailWith is { } status)
        {
            return Results.StatusCode((int)status);
        }

        var accessToken = Tokens.Issue(grant.TenantId, $"apikey:{grant.ApiKeyId}", grant.ApiKeyId, grant.TokenLifetime);
        return Results.Json(new { access_token = accessToken, token_type = "Bearer", expires_in = (long)grant.TokenLifetime.TotalSeconds });
    }

    private async Task<IResult> EchoAsync(HttpContext context) => await EchoAsync(context, formFields: null);

    private async Task<IResult> EchoAsync(HttpContext context, int? formFields)
    {
        long bodyLength = 0;
        if (formFields is null)
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                bodyLength += read;
            }
        }

        var headers = context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        foreach (var value in headers.Values.Where(value => value.Contains(ApiKeyExchange.KeyPrefix, StringComparison.Ordinal)))
        {
            LeakedApiKeys.Add(value);
        }

        return Results.Json(new EchoedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, bodyLength));
    }

    private sealed record ApiKeyGrant(string TenantId, string ApiKeyId, TimeSpan TokenLifetime, HttpStatusCode? FailWith);
}

/// <summary>What the backend received.</summary>
public sealed record EchoedRequest(string Method, string Path, Dictionary<string, string> Headers, long BodyLength)
{
    public string? Header(string name) =>
        Headers.FirstOrDefault(header => string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}
