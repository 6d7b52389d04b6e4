using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AgentPlatform.ControlPlane.Tests.Support;

namespace AgentPlatform.ControlPlane.Tests.Models;

/// <summary>A route as created: its id and the ETag a change must send back.</summary>
public sealed record CreatedRoute(string Id, EntityTagHeaderValue ETag);

/// <summary>A tenant admin's calls to the model admin API (credentials, routes), for tests that need them as setup.</summary>
public static class ModelAdminApi
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A name no other test uses: <paramref name="prefix"/> and 8 random hex digits.</summary>
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    /// <summary>A deployment of a route as the admin API takes it.</summary>
    public static object Deployment(
        string name, string provider = "openai", string? endpoint = "https://api.example.com/v1", string model = "gpt-4o-mini", Guid? credentialId = null, int priority = 0) =>
        new
        {
            name, provider, endpoint, model, credentialId, priority, weight = 1, timeout = "00:00:30", maxRetries = 1, cooldown = "00:00:10",
            contextWindow = 128_000, inputPriceMicros = 150_000, outputPriceMicros = 600_000, cachedInputPriceMicros = 75_000, enabled = true,
        };

    public static async Task<CreatedRoute> CreateRouteAsync(this HttpClient admin, string alias, object deployment, string[]? fallbacks = null)
    {
        using var created = await admin.PostAsJsonAsync("/api/model-routes", new { alias, strategy = "priority", fallbacks = fallbacks ?? [], deployments = new[] { deployment } }, Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        return new CreatedRoute((await created.ReadJsonAsync()).GetProperty("id").GetString()!, created.Headers.ETag!);
    }

    /// <summary>A provider credential holding <paramref name="secret"/>; its id.</summary>
    public static async Task<Guid> CreateCredentialAsync(this HttpClient admin, string secret)
    {
        using var created = await admin.PostAsJsonAsync("/api/provider-credentials", new { name = Unique("key"), secret }, Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        return (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
    }
}
