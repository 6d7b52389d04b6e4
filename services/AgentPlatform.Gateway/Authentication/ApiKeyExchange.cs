using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using AgentPlatform.Gateway.Errors;
using Microsoft.Extensions.Options;
using Polly;

namespace AgentPlatform.Gateway.Authentication;

/// <summary>
/// Exchanges integrators' API keys for platform access tokens at the control plane (RFC 8693 token exchange),
/// so backends only ever see JWTs. Results are remembered by the key's SHA-256 (never the key itself): an
/// accepted key for min(token lifetime − <see cref="ApiKeyExchangeOptions.ExpiryMargin"/>,
/// <see cref="ApiKeyExchangeOptions.MaxCacheDuration"/>), a rejected one for
/// <see cref="ApiKeyExchangeOptions.RejectionCacheDuration"/>. Concurrent first requests with one key share one
/// exchange.
/// </summary>
public sealed partial class ApiKeyExchange : IDisposable
{
    public const string HttpClientName = "api-key-exchange";

    /// <summary>Every platform API key starts with this; any other bearer credential is a JWT.</summary>
    public const string KeyPrefix = "apk_";

    public const string TokenExchangeGrantType = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string ApiKeyTokenType = "urn:agentplatform:params:oauth:token-type:api-key";

    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, CachedResult> cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<ApiKeyExchangeResult>>> inFlight = new(StringComparer.Ordinal);
    private readonly IHttpClientFactory httpClients;
    private readonly IOptionsMonitor<ApiKeyExchangeOptions> options;
    private readonly TimeProvider timeProvider;
    private readonly EdgeTelemetry telemetry;
    private readonly ILogger<ApiKeyExchange> logger;
    private readonly ITimer sweeper;

    public ApiKeyExchange(
        IHttpClientFactory httpClients,
        IOptionsMonitor<ApiKeyExchangeOptions> options,
        TimeProvider timeProvider,
        EdgeTelemetry telemetry,
        ILogger<ApiKeyExchange> logger)
    {
        this.httpClients = httpClients;
        this.options = options;
        this.timeProvider = timeProvider;
        this.telemetry = telemetry;
        this.logger = logger;
        sweeper = timeProvider.CreateTimer(_ => Sweep(), null, SweepInterval, SweepInterval);
    }

    /// <summary>The API key in the request's <c>Authorization: Bearer</c> header, if that is what it carries.</summary>
    public static bool TryGetApiKey(HttpRequest request, out string apiKey)
    {
        var authorization = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase)
            && authorization.AsSpan(bearer.Length).Trim() is { } credential
            && credential.StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            apiKey = credential.ToString();
            return true;
        }

        apiKey = string.Empty;
        return false;
    }

    /// <summary>
    /// The access token <paramref name="apiKey"/> stands for, or the control plane's reason for rejecting it.
    /// Throws <see cref="CredentialCheckUnavailableException"/> when the control plane cannot answer.
    /// </summary>
    public async ValueTask<ApiKeyExchangeResult> ExchangeAsync(string apiKey, CancellationToken cancellationToken)
    {
        var hash = Hash(apiKey);
        if (cache.TryGetValue(hash, out var cached) && cached.ExpiresAt > timeProvider.GetUtcNow())
        {
            telemetry.ApiKeyLookedUp(EdgeTelemetry.ApiKeyResultCached);
            return cached.Result;
        }

        var flight = new Lazy<Task<ApiKeyExchangeResult>>(() => ExchangeAndRememberAsync(hash, apiKey));
        var shared = inFlight.GetOrAdd(hash, flight);
        if (!ReferenceEquals(shared, flight))
        {
            telemetry.ApiKeyLookedUp(EdgeTelemetry.ApiKeyResultShared);
        }

        // A caller that gives up does not cancel the exchange the others wait for.
        try
        {
            return await shared.Value.WaitAsync(options.CurrentValue.Timeout, timeProvider, cancellationToken);
        }
        catch (TimeoutException exception)
        {
            telemetry.ApiKeyLookedUp(EdgeTelemetry.ApiKeyResultTimedOut);
            throw new CredentialCheckUnavailableException("The token endpoint did not answer the API key exchange in time.", exception);
        }
    }

    public void Dispose() => sweeper.Dispose();

    private async Task<ApiKeyExchangeResult> ExchangeAndRememberAsync(string hash, string apiKey)
    {
        try
        {
            var settings = options.CurrentValue;
            var (result, lifetime) = await RequestTokenAsync(apiKey, settings);
            var cacheFor = result.IsAccepted
                ? Min(lifetime - settings.ExpiryMargin, settings.MaxCacheDuration)
                : settings.RejectionCacheDuration;
            if (cacheFor > TimeSpan.Zero && cache.Count < settings.MaxCachedKeys)
            {
                cache[hash] = new CachedResult(result, timeProvider.GetUtcNow() + cacheFor);
            }

            telemetry.ApiKeyLookedUp(result.IsAccepted ? EdgeTelemetry.ApiKeyResultExchanged : EdgeTelemetry.ApiKeyResultRejected);
            return result;
        }
        catch (CredentialCheckUnavailableException)
        {
            telemetry.ApiKeyLookedUp(EdgeTelemetry.ApiKeyResultFailed);
            throw;
        }
        finally
        {
            // Later callers find the result in the cache (or, if it was not cached, start a new exchange).
            inFlight.TryRemove(hash, out _);
        }
    }

    private async Task<(ApiKeyExchangeResult Result, TimeSpan Lifetime)> RequestTokenAsync(string apiKey, ApiKeyExchangeOptions settings)
    {
        using var client = httpClients.CreateClient(HttpClientName);
        using var form = new FormUrlEncodedContent(
        [
            new("grant_type", TokenExchangeGrantType),
            new("subject_token", apiKey),
            new("subject_token_type", ApiKeyTokenType),
        ]);
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.TokenEndpoint) { Content = form };
        request.Headers.Accept.ParseAdd("application/json");

        try
        {
            using var response = await client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var token = await response.Content.ReadFromJsonAsync(TokenExchangeJsonContext.Default.TokenResponse);
                if (token is not { AccessToken.Length: > 0 } || !string.Equals(token.TokenType, "Bearer", StringComparison.OrdinalIgnoreCase))
                {
                    throw new CredentialCheckUnavailableException("The token endpoint answered the API key exchange without a bearer access token.");
                }

                return (ApiKeyExchangeResult.Accepted(token.AccessToken), TimeSpan.FromSeconds(token.ExpiresIn ?? 0));
            }

            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized
                && response.Content.Headers.ContentType?.MediaType == "application/json"
                && await response.Content.ReadFromJsonAsync(TokenExchangeJsonContext.Default.TokenErrorResponse) is { Error.Length: > 0 } error)
            {
                if (error.Error != "invalid_grant")
                {
                    LogUnexpectedRejection(logger, error.Error, error.ErrorDescription);
                }

                return (ApiKeyExchangeResult.Rejected(error.Error), TimeSpan.Zero);
            }

            throw new CredentialCheckUnavailableException($"The token endpoint answered the API key exchange with {(int)response.StatusCode}.");
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or ExecutionRejectedException or System.Text.Json.JsonException)
        {
            throw new CredentialCheckUnavailableException("The token endpoint could not be reached to exchange an API key.", exception);
        }
    }

    private static string Hash(string apiKey) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void Sweep()
    {
        var now = timeProvider.GetUtcNow();
        foreach (var pair in cache)
        {
            if (pair.Value.ExpiresAt <= now)
            {
                cache.TryRemove(pair);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "The token endpoint rejected an API key exchange with '{Error}' ({Description}); only 'invalid_grant' is expected.")]
    private static partial void LogUnexpectedRejection(ILogger logger, string error, string? description);

    private sealed record CachedResult(ApiKeyExchangeResult Result, DateTimeOffset ExpiresAt);
}

/// <summary>An API key's access token, or the OAuth error code the control plane rejected the key with.</summary>
public sealed record ApiKeyExchangeResult(string? AccessToken, string? Error)
{
    public bool IsAccepted => AccessToken is not null;

    public static ApiKeyExchangeResult Accepted(string accessToken) => new(accessToken, null);

    public static ApiKeyExchangeResult Rejected(string error) => new(null, error);
}

internal sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("token_type")] string? TokenType,
    [property: JsonPropertyName("expires_in")] long? ExpiresIn);

internal sealed record TokenErrorResponse(
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("error_description")] string? ErrorDescription);

[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(TokenErrorResponse))]
internal sealed partial class TokenExchangeJsonContext : JsonSerializerContext;
