using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// This instance's view of the signing keys: read from the store at most every
/// <see cref="TokenServiceOptions.SigningKeyCacheDuration"/> (at once after a local rotation or on request), so
/// signing, the JWKS and the control plane's own token validation cost no query. Which key signs is decided
/// from the cached lifecycle dates against the clock, so a scheduled key takes over on time without a reload.
/// </summary>
public sealed class SigningKeyRing(
    IServiceScopeFactory scopeFactory,
    SecretProtector protector,
    IOptions<TokenServiceOptions> options,
    TimeProvider timeProvider,
    ILogger<SigningKeyRing> logger) : IDisposable
{
    // Bounds reloads requested for unknown key ids, so forged tokens cannot turn into a flood of queries.
    private static readonly TimeSpan MinimumReloadInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim loadGate = new(1, 1);
    private readonly ConcurrentDictionary<string, SigningCredentials> credentials = new(StringComparer.Ordinal);
    private volatile Snapshot? snapshot;
    private volatile bool reloadRequested;

    /// <summary>The credentials of the key that signs now.</summary>
    public async Task<SigningCredentials> GetSigningCredentialsAsync(CancellationToken cancellationToken)
    {
        var current = await GetSnapshotAsync(cancellationToken);
        var key = current.ActiveAt(timeProvider.GetUtcNow().UtcDateTime);
        if (key is null)
        {
            // Another instance may have created a key since this one last looked.
            current = await ReloadAsync(current, cancellationToken);
            key = current.ActiveAt(timeProvider.GetUtcNow().UtcDateTime)
                ?? throw new InvalidOperationException("No signing key is active; the key ring maintenance has not created one yet.");
        }

        return credentials.GetOrAdd(key.Kid, static (kid, state) => state.ring.Decrypt(kid, state.key.EncryptedPrivateKey), (ring: this, key));
    }

    /// <summary>The JWKS document: the public keys of every key not yet expired, including those not yet signing.</summary>
    public async Task<string> GetJwksAsync(CancellationToken cancellationToken) => (await GetSnapshotAsync(cancellationToken)).Jwks;

    /// <summary>The public keys tokens may be validated with (the JWKS's keys).</summary>
    public async Task<IReadOnlyList<SecurityKey>> GetValidationKeysAsync(CancellationToken cancellationToken) =>
        (await GetSnapshotAsync(cancellationToken)).ValidationKeys;

    /// <summary>Reads the store again on next use (after this instance changed the ring).</summary>
    public void Invalidate() => snapshot = null;

    /// <summary>Reads the store again on next use, unless it was read within the last second (a token named an unknown key).</summary>
    public void RequestReload() => reloadRequested = true;

    public void Dispose() => loadGate.Dispose();

    private async Task<Snapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        var current = snapshot;
        var now = timeProvider.GetUtcNow();
        if (current is not null
            && now - current.LoadedAt < options.Value.SigningKeyCacheDuration
            && !(reloadRequested && now - current.LoadedAt >= MinimumReloadInterval))
        {
            return current;
        }

        return await ReloadAsync(current, cancellationToken);
    }

    private async Task<Snapshot> ReloadAsync(Snapshot? stale, CancellationToken cancellationToken)
    {
        await loadGate.WaitAsync(cancellationToken);
        try
        {
            // Someone else reloaded while this caller waited.
            if (snapshot is { } fresh && !ReferenceEquals(fresh, stale))
            {
                return fresh;
            }

            reloadRequested = false;
            await using var scope = scopeFactory.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            var now = timeProvider.GetUtcNow().UtcDateTime;
            var keys = await db.SigningKeys.AsNoTracking()
                .Where(k => k.ExpiresAt > now)
                .Select(k => new KeyInfo(k.Kid, k.PublicJwk, k.EncryptedPrivateKey, k.ActivatesAt, k.RetiresAt))
                .ToListAsync(cancellationToken);

            foreach (var kid in credentials.Keys.Except(keys.Select(k => k.Kid)))
            {
                credentials.TryRemove(kid, out _);
            }

            var loaded = new Snapshot(timeProvider.GetUtcNow(), keys);
            snapshot = loaded;
            return loaded;
        }
        finally
        {
            loadGate.Release();
        }
    }

    private SigningCredentials Decrypt(string kid, string encryptedPrivateKey)
    {
        var pkcs8 = protector.Unprotect(SecretPurposes.SigningKey, kid, encryptedPrivateKey);
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(pkcs8, out _);
            var key = new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: true)) { KeyId = kid };
            logger.LogDebug("Signing key {Kid} loaded.", kid);
            return new SigningCredentials(key, SecurityAlgorithms.RsaSha256);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private sealed record KeyInfo(string Kid, string PublicJwk, string EncryptedPrivateKey, DateTime ActivatesAt, DateTime RetiresAt);

    private sealed class Snapshot
    {
        private readonly IReadOnlyList<KeyInfo> keys;

        public Snapshot(DateTimeOffset loadedAt, IReadOnlyList<KeyInfo> keys)
        {
            this.keys = keys;
            LoadedAt = loadedAt;
            var set = new JsonArray();
            foreach (var key in keys.OrderByDescending(k => k.ActivatesAt))
            {
                set.Add(JsonNode.Parse(key.PublicJwk));
            }

            Jwks = new JsonObject { ["keys"] = set }.ToJsonString();
            ValidationKeys = [.. keys.Select(k => (SecurityKey)new JsonWebKey(k.PublicJwk))];
        }

        public DateTimeOffset LoadedAt { get; }

        public string Jwks { get; }

        public IReadOnlyList<SecurityKey> ValidationKeys { get; }

        // The newest key in its signing period; keys chain without gaps, so at most one normally qualifies.
        public KeyInfo? ActiveAt(DateTime now) => keys
            .Where(k => k.ActivatesAt <= now && now < k.RetiresAt)
            .OrderByDescending(k => k.ActivatesAt)
            .ThenBy(k => k.Kid, StringComparer.Ordinal)
            .FirstOrDefault();
    }
}
