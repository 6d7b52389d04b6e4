using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Secrets;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// Changes the signing key ring. Every change happens under one lease (<see cref="LeaseName"/>), so scheduled
/// maintenance and admin rotations on any number of instances never create competing keys. Keys chain without
/// gaps: a key retires exactly when its successor activates, and stays published until no token it signed can
/// still be valid.
/// </summary>
public sealed class SigningKeyManager(
    DistributedLeaseManager leases,
    SecretProtector protector,
    IOptions<TokenServiceOptions> options,
    IOptions<PlatformAuthenticationOptions> authentication,
    TimeProvider timeProvider)
{
    public const string LeaseName = "identity-signing-keys";

    private static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Waits until this caller holds the ring's lease; dispose the result to give it back.</summary>
    public async Task<IAsyncDisposable> LockAsync(CancellationToken cancellationToken)
    {
        var owner = $"{DistributedLeaseManager.ProcessOwner}/{Guid.NewGuid():N}";
        var deadline = timeProvider.GetUtcNow() + LockTimeout;
        while (!await leases.TryAcquireAsync(LeaseName, owner, LeaseDuration, cancellationToken))
        {
            if (timeProvider.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"The signing key ring stayed locked (lease '{LeaseName}') for {LockTimeout}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100 + Random.Shared.Next(100)), timeProvider, cancellationToken);
        }

        return new Lease(leases, owner);
    }

    /// <summary>
    /// Keeps the ring healthy: drops expired keys, creates the first key (active at once) when none signs now or
    /// later, and schedules the successor of the last key once its retirement is within the publish lead time.
    /// Returns the keys to add and remove; <paramref name="keys"/> (tracked) may be modified.
    /// </summary>
    public RingChanges Maintain(IReadOnlyList<SigningKey> keys)
    {
        var now = Now();
        var settings = options.Value;
        var removed = keys.Where(k => k.ExpiresAt <= now).ToList();
        var live = keys.Except(removed).ToList();
        var added = new List<SigningKey>();

        var last = live.Where(k => k.RetiresAt > now).MaxBy(k => k.RetiresAt);
        if (last is null)
        {
            added.Add(Schedule(GenerateKey(), activatesAt: Now()));
        }
        else if (last.RetiresAt - now <= settings.SigningKeyPublishLeadTime)
        {
            var material = GenerateKey();
            var activatesAt = Max(last.RetiresAt, Now() + settings.SigningKeyPublishLeadTime);
            Retire(last, activatesAt);
            added.Add(Schedule(material, activatesAt));
        }

        return new RingChanges(added, removed, []);
    }

    /// <summary>
    /// A new key. Scheduled: published now, signing after the publish lead time, when the keys before it retire.
    /// Immediate (compromise response): signing now, and every earlier key retired and withdrawn from the JWKS at
    /// once, so tokens they signed stop validating as soon as validators see the new JWKS (clients refresh).
    /// </summary>
    public RingChanges Rotate(IReadOnlyList<SigningKey> keys, bool immediate)
    {
        var material = GenerateKey();
        var now = Now();
        var activatesAt = immediate ? now : now + options.Value.SigningKeyPublishLeadTime;
        var removed = new List<SigningKey>();
        var retired = new List<SigningKey>();
        foreach (var key in keys.Where(k => k.ExpiresAt > now && k.RetiresAt > activatesAt))
        {
            if (key.ActivatesAt >= activatesAt)
            {
                // A successor that never signed: the new key supersedes it.
                removed.Add(key);
            }
            else
            {
                Retire(key, activatesAt);
                if (immediate)
                {
                    key.ExpiresAt = now;
                }

                retired.Add(key);
            }
        }

        return new RingChanges([Schedule(material, activatesAt)], removed, retired);
    }

    /// <summary>
    /// A new RSA key, not yet scheduled. Generated before the ring reads the clock: generating a key can take
    /// seconds, and the publish lead time must count from when the key is published, not from before it existed.
    /// </summary>
    private KeyMaterial GenerateKey()
    {
        using var rsa = RSA.Create(options.Value.SigningKeySize);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        var n = Base64Url.EncodeToString(parameters.Modulus);
        var e = Base64Url.EncodeToString(parameters.Exponent);

        // RFC 7638: the SHA-256 of the required members in lexicographic order, without whitespace.
        var kid = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes($$"""{"e":"{{e}}","kty":"RSA","n":"{{n}}"}""")));
        var jwk = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = SecurityAlgorithms.RsaSha256,
            ["kid"] = kid,
            ["n"] = n,
            ["e"] = e,
        });

        var privateKey = rsa.ExportPkcs8PrivateKey();
        try
        {
            return new KeyMaterial(kid, jwk, protector.Protect(SecretPurposes.SigningKey, kid, privateKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    private sealed record KeyMaterial(string Kid, string PublicJwk, string EncryptedPrivateKey);

    private SigningKey Schedule(KeyMaterial material, DateTime activatesAt)
    {
        var retiresAt = activatesAt + options.Value.SigningKeyRotationInterval;
        return new SigningKey
        {
            Kid = material.Kid,
            Algorithm = SecurityAlgorithms.RsaSha256,
            PublicJwk = material.PublicJwk,
            EncryptedPrivateKey = material.EncryptedPrivateKey,
            CreatedAt = Now(),
            ActivatesAt = activatesAt,
            RetiresAt = retiresAt,
            ExpiresAt = PublishedUntil(retiresAt),
        };
    }

    private void Retire(SigningKey key, DateTime retiresAt)
    {
        key.RetiresAt = retiresAt;
        key.ExpiresAt = PublishedUntil(retiresAt);
    }

    // Tokens signed just before retirement stay valid for their lifetime plus the validators' clock skew.
    private DateTime PublishedUntil(DateTime retiresAt) => retiresAt + options.Value.MaxAccessTokenLifetime + authentication.Value.ClockSkew;

    // Microsecond precision: what PostgreSQL stores is what was computed.
    private DateTime Now()
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);
    }

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    private sealed class Lease(DistributedLeaseManager leases, string owner) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await leases.ReleaseAsync(LeaseName, owner, timeout.Token);
            }
            catch (Exception)
            {
                // The lease then simply expires; failing here would hide the outcome of the work it guarded.
            }
        }
    }
}

/// <summary>What a ring change does: keys to add and to delete; <see cref="Retired"/> were modified in place.</summary>
public sealed record RingChanges(IReadOnlyList<SigningKey> Added, IReadOnlyList<SigningKey> Removed, IReadOnlyList<SigningKey> Retired)
{
    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0;
}
