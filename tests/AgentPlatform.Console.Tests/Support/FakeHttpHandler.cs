using System.Net;
using System.Text;

namespace AgentPlatform.Console.Tests.Support;

/// <summary>A request the fake saw, with its body read while it was still open.</summary>
public sealed record RecordedRequest(HttpMethod Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string? Body);

/// <summary>
/// The far side of an <see cref="HttpClient"/>: answers with <see cref="Respond"/> and records every request.
/// </summary>
public sealed class FakeHttpHandler : HttpMessageHandler
{
    private readonly List<RecordedRequest> requests = [];
    private readonly Lock gate = new();

    public Func<HttpRequestMessage, Task<HttpResponseMessage>> Respond { get; set; } =
        _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (gate)
            {
                return [.. requests];
            }
        }
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json, string mediaType = "application/json") =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, mediaType) };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        lock (gate)
        {
            requests.Add(new RecordedRequest(request.Method, request.RequestUri!.PathAndQuery, headers, body));
        }

        return await Respond(request);
    }
}

/// <summary>Every named client talks to the same fake.</summary>
public sealed class FakeHttpClientFactory(HttpMessageHandler handler) : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => new(handler, disposeHandler: false) { BaseAddress = new Uri("http://controlplane") };
}
