using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Infrastructure.Tests.Identity;

/// <summary>One request the token endpoint received: the client's Basic credentials and the form parameters.</summary>
public sealed record ReceivedTokenRequest(string? ClientId, string? ClientSecret, string? GrantType, string? TenantId, string? OnBehalfOf);

/// <summary>
/// A token endpoint for tests: a real HTTP server on a loopback port answering <c>POST /auth/token</c> with a new
/// bearer token (<c>at-1</c>, <c>at-2</c>, …) of <see cref="ExpiresIn"/> seconds, or with the scripted answers.
/// Answers can be held back (<see cref="HoldAnswers"/>) to see which callers share a request.
/// </summary>
public sealed class ScriptedTokenEndpoint : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedTokenRequest> requests = new();
    private readonly ConcurrentQueue<(int Status, string ContentType, string Body)> scripted = new();
    private readonly TaskCompletionSource requestArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? held;
    private WebApplication app = null!;
    private long issued;

    private ScriptedTokenEndpoint()
    {
    }

    public Uri TokenEndpoint { get; private set; } = null!;

    public int ExpiresIn { get; set; } = 900;

    public IReadOnlyList<ReceivedTokenRequest> Requests => [.. requests];

    /// <summary>Completes when the first request has arrived (and, while answers are held, waits).</summary>
    public Task FirstRequestArrived => requestArrived.Task;

    public static async Task<ScriptedTokenEndpoint> StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = new ScriptedTokenEndpoint();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        endpoint.app = builder.Build();
        endpoint.app.Run(endpoint.HandleAsync);
        await endpoint.app.StartAsync(cancellationToken);
        var address = endpoint.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint.TokenEndpoint = new Uri(new Uri(address), "/auth/token");
        return endpoint;
    }

    /// <summary>The next request is answered with an OAuth error instead of a token.</summary>
    public void Refuse(int status, string error, string description) =>
        scripted.Enqueue((status, "application/json", $$"""{"error":"{{error}}","error_description":"{{description}}"}"""));

    /// <summary>The next request is answered exactly so.</summary>
    public void Answer(int status, string contentType, string body) => scripted.Enqueue((status, contentType, body));

    /// <summary>Requests wait, after they are recorded, until <see cref="ReleaseAnswers"/>.</summary>
    public void HoldAnswers() => held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseAnswers() => held?.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        ReleaseAnswers();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || context.Request.Path != "/auth/token")
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var (clientId, clientSecret) = ReadBasic(context.Request.Headers.Authorization.ToString());
        var request = new ReceivedTokenRequest(
            clientId,
            clientSecret,
            form["grant_type"].ToString(),
            form["tenant_id"].ToString(),
            form.TryGetValue("on_behalf_of", out var onBehalfOf) ? onBehalfOf.ToString() : null);
        requests.Enqueue(request);
        requestArrived.TrySetResult();
        if (held is { } gate)
        {
            await gate.Task.WaitAsync(context.RequestAborted);
        }

        context.Response.Headers.CacheControl = "no-store";
        if (scripted.TryDequeue(out var answer))
        {
            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = answer.ContentType;
            await context.Response.WriteAsync(answer.Body, context.RequestAborted);
            return;
        }

        var token = $"at-{Interlocked.Increment(ref issued)}";
        await context.Response.WriteAsJsonAsync(new { access_token = token, token_type = "Bearer", expires_in = ExpiresIn }, context.RequestAborted);
    }

    // RFC 6749 §2.3.1: each part form-urlencoded, then joined with ':' and base64-encoded.
    private static (string? ClientId, string? ClientSecret) ReadBasic(string header)
    {
        if (!header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return (null, null);
        }

        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
        var separator = decoded.IndexOf(':', StringComparison.Ordinal);
        return (FormDecode(decoded[..separator]), FormDecode(decoded[(separator + 1)..]));
    }

    private static string FormDecode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}
