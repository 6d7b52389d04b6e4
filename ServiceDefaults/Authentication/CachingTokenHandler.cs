using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.ServiceDefaults.Authentication;

/// <summary>
/// Validates access tokens like <see cref="JsonWebTokenHandler"/>, and remembers the ones that passed, so a caller
/// that sends the same token on every request pays for its RS256 signature and claim parsing once, not on every
/// call (measured in docs/benchmarks.md: validation was a third of the model gateway's CPU per call). A remembered
/// token is accepted again only while it has not expired, for at most <see cref="PlatformAuthenticationOptions.ValidatedTokenCacheDuration"/>,
/// and only while the key that signed it is still one of the issuer's keys — a key removed from the JWKS stops
/// every token it signed at the next request, as without the cache. Failures are never remembered.
/// </summary>
public sealed class CachingTokenHandler(TimeSpan duration, int capacity, TimeProvider timeProvider) : JsonWebTokenHandler
{
    private readonly ConcurrentDictionary<string, Entry> validated = new(StringComparer.Ordinal);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        ArgumentNullException.ThrowIfNull(validationParameters);
        var now = timeProvider.GetUtcNow();
        if (token is not null && validated.TryGetValue(token, out var entry))
        {
            if (now < entry.Until && await IsStillPublishedAsync(entry.SigningKeyId, validationParameters))
            {
                // Each request gets an identity of its own: handlers and transformations may add claims to it.
                return new TokenValidationResult
                {
                    IsValid = true,
                    ClaimsIdentity = entry.Result.ClaimsIdentity.Clone(),
                    SecurityToken = entry.Result.SecurityToken,
                    TokenType = entry.Result.TokenType,
                    Issuer = entry.Result.Issuer,
                };
            }

            validated.TryRemove(token, out _);
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && token is not null && result.SecurityToken is JsonWebToken jwt && jwt.SigningKey?.KeyId is { } keyId)
        {
            var expires = new DateTimeOffset(DateTime.SpecifyKind(jwt.ValidTo, DateTimeKind.Utc));
            var until = now + duration < expires ? now + duration : expires;
            if (until > now)
            {
                MakeRoom(now);
                validated[token] = new Entry(result, keyId, until);
            }
        }

        return result;
    }

    /// <summary>How many validated tokens are remembered now (for tests).</summary>
    public int Count => validated.Count;

    /// <summary>
    /// Whether the issuer still publishes the key: among the parameters' keys, or — as the JWT bearer handler passes
    /// them — in the current configuration of its JWKS manager (kept in memory and refreshed on its own schedule).
    /// </summary>
    private static async ValueTask<bool> IsStillPublishedAsync(string keyId, TokenValidationParameters parameters)
    {
        if (parameters.IssuerSigningKey?.KeyId == keyId || Contains(parameters.IssuerSigningKeys, keyId))
        {
            return true;
        }

        if (parameters.ConfigurationManager is { } manager)
        {
            var configuration = await manager.GetBaseConfigurationAsync(CancellationToken.None);
            return Contains(configuration?.SigningKeys, keyId);
        }

        return false;
    }

    private static bool Contains(IEnumerable<SecurityKey>? keys, string keyId)
    {
        if (keys is not null)
        {
            foreach (var key in keys)
            {
                if (key.KeyId == keyId)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private void MakeRoom(DateTimeOffset now)
    {
        if (validated.Count < capacity)
        {
            return;
        }

        foreach (var (token, entry) in validated)
        {
            if (entry.Until <= now)
            {
                validated.TryRemove(token, out _);
            }
        }

        if (validated.Count >= capacity)
        {
            // Full of live tokens (many callers, or someone sending many tokens): start over rather than grow.
            validated.Clear();
        }
    }

    private sealed record Entry(TokenValidationResult Result, string SigningKeyId, DateTimeOffset Until);
}
