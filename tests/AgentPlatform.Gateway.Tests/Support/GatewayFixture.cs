using System.Net.Http.Json;
using System.Text.Json;

namespace AgentPlatform.Gateway.Tests.Support;

/// <summary>A <see cref="TestBackend"/> and a <see cref="TestGateway"/> in front of it, shared by the tests of a class.</summary>
public class GatewayFixture : IAsyncLifetime
{
    private TestBackend? backend;
    private TestGateway? gateway;

    public TestBackend Backend => backend!;

    public TestGateway Gateway => gateway!;

    /// <summary>Settings on top of the defaults; generous rate limits unless a class says otherwise.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Gateway:RateLimits:Tenant:Capacity"] = "100000",
        ["Gateway:RateLimits:Client:Capacity"] = "100000",
        ["Gateway:RateLimits:ClientAddress:Capacity"] = "100000",
    };

    public async ValueTask InitializeAsync()
    {
        backend = await TestBackend.StartAsync();
        gateway = TestGateway.Start(backend, Settings);
    }

    public async ValueTask DisposeAsync()
    {
        if (gateway is not null)
        {
            await gateway.DisposeAsync();
        }

        if (backend is not null)
        {
            await backend.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

public static class ResponseAssertions
{
    /// <summary>Asserts the response is what the gateway proxied and returns what the backend received.</summary>
    public static async Task<EchoedRequest> ProxiedAsync(this HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"Expected the request to be proxied, got {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<EchoedRequest>(body, JsonSerializerOptions.Web)!;
    }

    /// <summary>Asserts an RFC 9457 problem details answer with <paramref name="status"/> and returns it.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, int status)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }

    /// <summary>Asserts an OpenAI-shaped error answer with <paramref name="status"/> and returns its <c>error</c> object.</summary>
    public static async Task<JsonElement> OpenAiErrorAsync(this HttpResponseMessage response, int status, string? code)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal(code, error.GetProperty("code").GetString());
        return error;
    }

    /// <summary>The W3C trace id the gateway put in <c>x-trace-id</c> (asserted present and well-formed).</summary>
    public static string TraceId(this HttpResponseMessage response)
    {
        Assert.True(response.Headers.TryGetValues("x-trace-id", out var values), $"No x-trace-id on a {(int)response.StatusCode} response.");
        var traceId = Assert.Single(values);
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        return traceId;
    }
}
