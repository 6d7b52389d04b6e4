using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>The control plane's authorization server: tokens, sign-in throttling, signing keys, credentials (section <c>Identity</c>).</summary>
public sealed partial class TokenServiceOptions : IValidatableObject
{
    public const string SectionName = "Identity";

    /// <summary>The bootstrap <c>admin</c>'s password; without it one is generated and logged once.</summary>
    public string? BootstrapAdminPassword { get; set; }

    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Lifetime of the access token an API key is exchanged for (never beyond the key's own expiry).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan ApiKeyAccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A refresh token expires this long after it was issued; each use issues a successor (sliding).</summary>
    [Range(typeof(TimeSpan), "00:05:00", "365.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>No refresh token outlives its sign-in by more than this, however often it is used.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "365.00:00:00")]
    public TimeSpan RefreshTokenFamilyLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// A refresh token presented again this soon after it was used gets another successor (a client's concurrent
    /// retry); later, it revokes its whole family (RFC 9700 §4.14.2).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RefreshTokenReuseGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Failed sign-ins in a row that lock an account (or throttle an unknown user name).</summary>
    [Range(1, 100)]
    public int MaxFailedSignIns { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>RSA modulus size of new signing keys.</summary>
    [Range(2048, 4096)]
    public int SigningKeySize { get; set; } = 3072;

    /// <summary>How long a signing key signs before its successor takes over.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00")]
    public TimeSpan SigningKeyRotationInterval { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// How long a new key is published before it signs, so every validator's cached JWKS has it by then: at least
    /// twice the validators' JWKS refresh interval (<c>Authentication:JwksAutomaticRefreshInterval</c>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan SigningKeyPublishLeadTime { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>How often an instance checks the key ring (creates successors, deletes expired keys and refresh tokens).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long an instance uses the key ring it read before reading it again: after an immediate rotation on another
    /// instance, this instance may sign with the withdrawn key for up to this long.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan SigningKeyCacheDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest expiry an API key may be given.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan MaxApiKeyLifetime { get; set; } = TimeSpan.FromDays(365);

    /// <summary>An API key's last use is recorded at most this often, so exchanges do not write on every call.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ApiKeyLastUsedResolution { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The platform's own services (e.g. the worker) that get access tokens for any tenant with
    /// <c>client_credentials</c> and <c>tenant_id</c>, by client id: <c>Identity:ServiceClients:{clientId}:Secret</c>.
    /// Configured here, never created through the API (docs/decisions/0007-service-tokens.md).
    /// </summary>
    public Dictionary<string, ServiceClientOptions> ServiceClients { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The longest access token this server issues: signing keys stay published at least this long after they retire.</summary>
    public TimeSpan MaxAccessTokenLifetime => AccessTokenLifetime > ApiKeyAccessTokenLifetime ? AccessTokenLifetime : ApiKeyAccessTokenLifetime;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RefreshTokenFamilyLifetime < RefreshTokenLifetime)
        {
            yield return new ValidationResult(
                "Identity:RefreshTokenFamilyLifetime must not be shorter than Identity:RefreshTokenLifetime.",
                [nameof(RefreshTokenFamilyLifetime)]);
        }

        if (SigningKeyPublishLeadTime >= SigningKeyRotationInterval)
        {
            yield return new ValidationResult(
                "Identity:SigningKeyPublishLeadTime must be shorter than Identity:SigningKeyRotationInterval.",
                [nameof(SigningKeyPublishLeadTime)]);
        }

        foreach (var (clientId, client) in ServiceClients)
        {
            if (!ServiceClientIdPattern().IsMatch(clientId))
            {
                yield return new ValidationResult(
                    $"Identity:ServiceClients:{clientId} is not a valid service client id: use 1-63 lowercase letters, digits and '-', starting with a letter.",
                    [nameof(ServiceClients)]);
            }

            if (client?.Secret is not { Length: >= ServiceClientOptions.MinSecretLength })
            {
                yield return new ValidationResult(
                    $"Identity:ServiceClients:{clientId}:Secret must have at least {ServiceClientOptions.MinSecretLength} characters (a generated random value).",
                    [nameof(ServiceClients)]);
            }
        }

        if (BootstrapAdminPassword is { Length: > 0 and < Users.Passwords.MinLength })
        {
            yield return new ValidationResult(
                $"Identity:BootstrapAdminPassword must have at least {Users.Passwords.MinLength} characters.",
                [nameof(BootstrapAdminPassword)]);
        }
    }

    // Never the shape of a tenant's client id (cli_…), so the two kinds of client cannot be confused.
    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceClientIdPattern();
}

/// <summary>A platform service client (<c>Identity:ServiceClients:{clientId}</c>).</summary>
public sealed class ServiceClientOptions
{
    public const int MinSecretLength = Infrastructure.Identity.ServiceTokenOptions.MinSecretLength;

    /// <summary>The client's secret: a long random value (the AppHost generates one; a Kubernetes Secret in production).</summary>
    public string Secret { get; set; } = "";
}
