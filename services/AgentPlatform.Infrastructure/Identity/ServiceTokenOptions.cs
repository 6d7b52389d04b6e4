using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Infrastructure.Identity;

/// <summary>
/// How a platform service gets access tokens for tenants from the control plane (section <c>ServiceTokens</c>):
/// its service client, configured at the control plane as <c>Identity:ServiceClients:{ClientId}:Secret</c>.
/// </summary>
public sealed class ServiceTokenOptions : IValidatableObject
{
    public const string SectionName = "ServiceTokens";

    /// <summary>The shortest secret either side accepts: secrets are generated, never chosen by people.</summary>
    public const int MinSecretLength = 32;

    [Required(ErrorMessage = "ServiceTokens:ClientId is required: the platform service client this service authenticates as (Identity:ServiceClients:<client id> at the control plane).")]
    public string ClientId { get; set; } = "";

    [Required(ErrorMessage = "ServiceTokens:Secret is required: the secret of the service client, the same value as the control plane's Identity:ServiceClients:<client id>:Secret.")]
    public string Secret { get; set; } = "";

    /// <summary>The control plane's token endpoint, through service discovery.</summary>
    [Required]
    public Uri TokenEndpoint { get; set; } = new("http://controlplane/auth/token");

    /// <summary>A token is reused until this long before it expires, so a call never starts with an expiring token.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan RefreshBeforeExpiry { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>At most this many tokens (one per tenant and user) are kept; beyond it the one due soonest goes.</summary>
    [Range(1, 1_000_000)]
    public int MaxCachedTokens { get; set; } = 10_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Secret is { Length: > 0 and < MinSecretLength })
        {
            yield return new ValidationResult(
                $"ServiceTokens:Secret must have at least {MinSecretLength} characters (a generated random value).",
                [nameof(Secret)]);
        }

        if (TokenEndpoint is not null && (!TokenEndpoint.IsAbsoluteUri || TokenEndpoint.Scheme is not ("http" or "https" or "https+http")))
        {
            yield return new ValidationResult(
                "ServiceTokens:TokenEndpoint must be an absolute http(s) URL, e.g. http://controlplane/auth/token.",
                [nameof(TokenEndpoint)]);
        }
    }
}
