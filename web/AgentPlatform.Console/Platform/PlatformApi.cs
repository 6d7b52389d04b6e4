using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentPlatform.Console.Authentication;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace AgentPlatform.Console.Platform;

/// <summary>
/// The console's one client of the platform's REST API (the control plane's <c>/api</c>, through service discovery).
/// Use it from pages and components: it is scoped, so in an interactive page it belongs to the circuit, and it signs
/// every request with the signed-in user's access token (refreshed when it is about to expire). Paths are relative
/// (<c>/api/tasks</c>); JSON uses web defaults (camelCase unless a contract names its fields, null fields left out).
/// <para>
/// Any answer other than 2xx throws <see cref="PlatformApiException"/> with the problem details' title, detail and
/// field errors, so a page catches that one type and shows it (the <c>ApiErrorAlert</c> component does). When the
/// session has ended the user is sent to sign-in (coming back to the same page) and the call throws with status 401.
/// </para>
/// </summary>
/// <remarks>
/// Tokens are attached here rather than in an <see cref="HttpClient"/> message handler: handlers run in the
/// factory's own DI scope, which knows neither the circuit's user nor its session.
/// </remarks>
public sealed class PlatformApi(
    IHttpClientFactory httpClients,
    AuthenticationStateProvider authenticationState,
    AccessTokenProvider tokens,
    NavigationManager navigation,
    ILogger<PlatformApi> logger)
{
    /// <summary>Calls that answer in one go: resilience (retries, timeouts) from the service defaults.</summary>
    public const string HttpClientName = "platform";

    /// <summary>Long-lived streams (Server-Sent Events): no resilience handler and no timeout.</summary>
    public const string StreamingHttpClientName = "platform-stream";

    public const string LastEventIdHeader = "Last-Event-ID";

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>GETs <paramref name="path"/> and reads its JSON.</summary>
    public async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Relative(path));
        using var response = await SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    /// <summary>
    /// POSTs <paramref name="body"/> as JSON and reads the answer's JSON. <paramref name="headers"/> adds request
    /// headers, e.g. <c>Idempotency-Key</c>.
    /// </summary>
    public async Task<TResponse> PostAsync<TRequest, TResponse>(
        string path, TRequest body, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Relative(path)) { Content = JsonContent.Create(body, options: Json) };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await SendAsync(request, cancellationToken);
        return await ReadAsync<TResponse>(response, cancellationToken);
    }

    /// <summary>POSTs without a body (an action such as <c>/api/tasks/{id}/cancel</c>) and reads the answer's JSON.</summary>
    public async Task<TResponse> PostAsync<TResponse>(string path, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Relative(path));
        using var response = await SendAsync(request, cancellationToken);
        return await ReadAsync<TResponse>(response, cancellationToken);
    }

    /// <summary>PUTs <paramref name="body"/> as JSON and reads the answer's JSON.</summary>
    public async Task<TResponse> PutAsync<TRequest, TResponse>(string path, TRequest body, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, Relative(path)) { Content = JsonContent.Create(body, options: Json) };
        using var response = await SendAsync(request, cancellationToken);
        return await ReadAsync<TResponse>(response, cancellationToken);
    }

    /// <summary>DELETEs <paramref name="path"/>; any 2xx is success.</summary>
    public async Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Relative(path));
        using var response = await SendAsync(request, cancellationToken);
    }

    /// <summary>
    /// Sends a request of your own (relative URI) with the user's token and returns the successful response (read
    /// whole), which you dispose. Throws <see cref="PlatformApiException"/> for anything but 2xx.
    /// </summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken = default) =>
        SendAsync(request, streaming: false, cancellationToken);

    /// <summary>
    /// Like <see cref="SendAsync(HttpRequestMessage, CancellationToken)"/>, but returns as soon as the headers arrived
    /// and uses the client without timeout or retries: for responses read as a stream.
    /// </summary>
    public Task<HttpResponseMessage> SendStreamingAsync(HttpRequestMessage request, CancellationToken cancellationToken = default) =>
        SendAsync(request, streaming: true, cancellationToken);

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, bool streaming, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await GetAccessTokenAsync(cancellationToken));
        var http = httpClients.CreateClient(streaming ? StreamingHttpClientName : HttpClientName);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, streaming ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(exception, "{Method} {Path} did not reach the platform.", request.Method, request.RequestUri);
            throw new PlatformApiException(0, "The platform could not be reached. Try again.", innerException: exception);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var problem = await ReadProblemAsync(response, cancellationToken);
            if (problem.Status == (int)HttpStatusCode.Unauthorized)
            {
                RedirectToSignIn();
            }

            throw problem;
        }
    }

    /// <summary>
    /// Reads a Server-Sent Events stream until the server ends it or <paramref name="cancellationToken"/> is cancelled
    /// (cancel it when the page goes away). <paramref name="lastEventId"/> resumes after that event; a 204 is an empty
    /// stream. Reconnecting after a dropped connection is the caller's choice (it knows the last id it saw).
    /// </summary>
    public async IAsyncEnumerable<SseItem<string>> StreamEventsAsync(
        string path, string? lastEventId = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Relative(path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (!string.IsNullOrEmpty(lastEventId))
        {
            request.Headers.TryAddWithoutValidation(LastEventIdHeader, lastEventId);
        }

        using var response = await SendStreamingAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            yield break;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            yield return item;
        }
    }

    /// <summary>The problem details of a failed response (RFC 9457), or a plain description of its status.</summary>
    public static async Task<PlatformApiException> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        ProblemDocument? problem = null;
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is "application/problem+json" or "application/json")
        {
            try
            {
                problem = await response.Content.ReadFromJsonAsync<ProblemDocument>(Json, cancellationToken);
            }
            catch (JsonException)
            {
                // Not the problem shape after all: the status says enough.
            }
        }

        // A server error's detail is for its operators' logs, not the page.
        var detail = status >= 500 ? null : problem?.Detail;
        return new PlatformApiException(
            status,
            string.IsNullOrWhiteSpace(problem?.Title) ? PlatformApiException.DefaultTitle(status) : problem.Title,
            detail,
            problem?.Errors,
            problem?.TraceId);
    }

    private async Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        var user = (await authenticationState.GetAuthenticationStateAsync()).User;
        try
        {
            return user.GetSessionId() is { } sessionId
                ? await tokens.GetAccessTokenAsync(sessionId, cancellationToken)
                : throw new SessionExpiredException("Nobody is signed in.");
        }
        catch (SessionExpiredException)
        {
            RedirectToSignIn();
            throw new PlatformApiException((int)HttpStatusCode.Unauthorized, PlatformApiException.DefaultTitle(401));
        }
        catch (HttpRequestException exception)
        {
            throw new PlatformApiException((int)HttpStatusCode.ServiceUnavailable, "The platform could not be reached to renew your session. Try again.", innerException: exception);
        }
    }

    private void RedirectToSignIn()
    {
        var returnUrl = "/" + navigation.ToBaseRelativePath(navigation.Uri);
        navigation.NavigateTo($"/signin?returnUrl={Uri.EscapeDataString(returnUrl)}", forceLoad: true);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
        ?? throw new PlatformApiException((int)response.StatusCode, "The platform answered without content.");

    private static Uri Relative(string path) => new(path, UriKind.Relative);

    private sealed record ProblemDocument(string? Title, string? Detail, int? Status, Dictionary<string, string[]>? Errors, string? TraceId);
}
