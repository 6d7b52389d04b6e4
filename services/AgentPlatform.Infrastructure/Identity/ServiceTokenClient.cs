using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.Identity;

/// <summary>
/// Access tokens for a platform service to call other services for a tenant, optionally on behalf of one of its
/// users (so that user's model budgets apply): <c>client_credentials</c> at the control plane with the service
/// client of <see cref="ServiceTokenOptions"/> (docs/decisions/0007-service-tokens.md). A token is reused per
/// tenant and user until <see cref="ServiceTokenOptions.RefreshBeforeExpiry"/> before it expires; concurrent
/// callers for the same tenant and user share one request; at most
/// <see cref="ServiceTokenOptions.MaxCachedTokens"/> are kept. Failures are not remembered: the next call asks again.
/// </summary>
public sealed class ServiceTokenClient(IHttpClientFactory httpClients, IOptions<ServiceTokenOptions> options, TimeProvider timeProvider)
{
    public const string HttpClientName = "service-tokens";

    private const string ClientCredentialsGrantType = "client_credentials";

    private readonly ConcurrentDictionary<TokenKey, CachedToken> cache = new();
    private readonly ConcurrentDictionary<TokenKey, Lazy<Task<CachedToken>>> inFlight = new();
    private readonly Lock evictionGate = new();

    /// <summary>How many tokens are kept right now.</summary>
    public int CachedTokenCount => cache.Count;

    /// <summary>
    /// An access token for <paramref name="tenantId"/> (role <c>platform-service</c>), standing for
    /// <paramref name="onBehalfOf"/> (a user id of that tenant) when given. Throws
    /// <see cref="ServiceTokenException"/> when the control plane refuses or cannot be reached.
    /// </summary>
    public async Task<string> GetAccessTokenAsync(string tenantId, string? onBehalfOf, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        var key = new TokenKey(tenantId, string.IsNullOrEmpty(onBehalfOf) ? null : onBehalfOf);
        if (TryGetFresh(key, out var cached))
        {
            return cached.AccessToken;
        }

        // A caller that gives up does not cancel the request the others wait for.
        var flight = inFlight.GetOrAdd(key, static (key, client) => new Lazy<Task<CachedToken>>(() => client.RequestAndRememberAsync(key)), this);
        var token = await flight.Value.WaitAsync(cancellationToken);
        return token.AccessToken;
    }

    private bool TryGetFresh(TokenKey key, out CachedToken token) =>
        cache.TryGetValue(key, out token!) && token.RefreshAt > timeProvider.GetUtcNow();

    private async Task<CachedToken> RequestAndRememberAsync(TokenKey key)
    {
        try
        {
            // A request that finished just before this one started has left its token here.
            if (TryGetFresh(key, out var fresh))
            {
                return fresh;
            }

            var settings = options.Value;
            var requestedAt = timeProvider.GetUtcNow();
            var (accessToken, expiresIn) = await RequestAsync(key, settings);
            var token = new CachedToken(accessToken, requestedAt + expiresIn - settings.RefreshBeforeExpiry);
            if (token.RefreshAt > timeProvider.GetUtcNow())
            {
                Remember(key, token, settings.MaxCachedTokens);
            }

            return token;
        }
        finally
        {
            // Only this flight can be registered under the key while it runs.
            inFlight.TryRemove(key, out _);
        }
    }

    private void Remember(TokenKey key, CachedToken token, int maxCachedTokens)
    {
        lock (evictionGate)
        {
            if (!cache.ContainsKey(key) && cache.Count >= maxCachedTokens)
            {
                var now = timeProvider.GetUtcNow();
                foreach (var entry in cache.Where(entry => entry.Value.RefreshAt <= now))
                {
                    cache.TryRemove(entry);
                }

                while (cache.Count >= maxCachedTokens)
                {
                    cache.TryRemove(cache.MinBy(entry => entry.Value.RefreshAt));
                }
            }

            cache[key] = token;
        }
    }

    private async Task<(string AccessToken, TimeSpan ExpiresIn)> RequestAsync(TokenKey key, ServiceTokenOptions settings)
    {
        List<KeyValuePair<string, string>> form =
        [
            new("grant_type", ClientCredentialsGrantType),
            new("tenant_id", key.TenantId),
        ];
        if (key.OnBehalfOf is not null)
        {
            form.Add(new("on_behalf_of", key.OnBehalfOf));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, settings.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        // RFC 6749 §2.3.1: both parts form-urlencoded before they are joined.
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(settings.ClientId)}:{Uri.EscapeDataString(settings.Secret)}")));
        request.Headers.Accept.ParseAdd("application/json");

        using var client = httpClients.CreateClient(HttpClientName);
        try
        {
            using var response = await client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var token = await response.Content.ReadFromJsonAsync(ServiceTokenJsonContext.Default.ServiceTokenResponse);
                if (token is not { AccessToken.Length: > 0, ExpiresIn: > 0 } || !string.Equals(token.TokenType, "Bearer", StringComparison.OrdinalIgnoreCase))
                {
                    throw new ServiceTokenException(Describe("the answer has no bearer access token with a lifetime"), response.StatusCode);
                }

                return (token.AccessToken, TimeSpan.FromSeconds(token.ExpiresIn.Value));
            }

            if (response.Content.Headers.ContentType?.MediaType == "application/json"
                && await ReadErrorAsync(response) is { Error.Length: > 0 } error)
            {
                throw new ServiceTokenException(
                    Describe($"refused with {error.Error}{(string.IsNullOrEmpty(error.ErrorDescription) ? "" : $" ({error.ErrorDescription})")}"),
                    response.StatusCode,
                    error.Error,
                    error.ErrorDescription);
            }

            throw new ServiceTokenException(Describe($"answered {(int)response.StatusCode} without an OAuth error"), response.StatusCode);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or JsonException)
        {
            throw new ServiceTokenException(Describe($"the request failed: {exception.Message}"), statusCode: null, innerException: exception);
        }

        string Describe(string what) =>
            $"Service token for tenant '{key.TenantId}'"
            + (key.OnBehalfOf is null ? "" : $" on behalf of user '{key.OnBehalfOf}'")
            + $" from {settings.TokenEndpoint}: {what}.";
    }

    private static async Task<ServiceTokenError?> ReadErrorAsync(HttpResponseMessage response)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(ServiceTokenJsonContext.Default.ServiceTokenError);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private readonly record struct TokenKey(string TenantId, string? OnBehalfOf);

    private sealed record CachedToken(string AccessToken, DateTimeOffset RefreshAt);
}

/// <summary>
/// The control plane refused a service token (<see cref="Error"/> is the OAuth error code, e.g.
/// <c>invalid_client</c> for a wrong secret, <c>invalid_grant</c> for an unknown tenant or user) or could not be
/// reached (no <see cref="Error"/>; see the inner exception).
/// </summary>
public sealed class ServiceTokenException(
    string message,
    HttpStatusCode? statusCode,
    string? error = null,
    string? errorDescription = null,
    Exception? innerException = null) : Exception(message, innerException)
{
    public HttpStatusCode? StatusCode { get; } = statusCode;

    public string? Error { get; } = error;

    public string? ErrorDescription { get; } = errorDescription;
}

internal sealed record ServiceTokenResponse(
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("token_type")] string? TokenType,
    [property: JsonPropertyName("expires_in")] long? ExpiresIn);

internal sealed record ServiceTokenError(
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("error_description")] string? ErrorDescription);

[JsonSerializable(typeof(ServiceTokenResponse))]
[JsonSerializable(typeof(ServiceTokenError))]
internal sealed partial class ServiceTokenJsonContext : JsonSerializerContext;
