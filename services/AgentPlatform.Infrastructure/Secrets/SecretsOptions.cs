using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Infrastructure.Secrets;

/// <summary>The platform's key-encryption key for secrets stored in the database (section <c>Secrets</c>).</summary>
public sealed class SecretsOptions : IValidatableObject
{
    public const string SectionName = "Secrets";

    /// <summary>
    /// Encrypts secrets at rest (signing keys' private halves, provider credentials): base64 of at least 32 random
    /// bytes (e.g. <c>openssl rand -base64 32</c>). Every instance of every service that reads those secrets needs
    /// the same value; with another one the stored secrets cannot be read.
    /// </summary>
    [Required(ErrorMessage = "Secrets:KeyEncryptionKey is required: base64 of at least 32 random bytes (e.g. 'openssl rand -base64 32'), the same on every control-plane and model-gateway instance.")]
    public string KeyEncryptionKey { get; set; } = "";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(KeyEncryptionKey) && !SecretProtector.IsUsableKey(KeyEncryptionKey))
        {
            yield return new ValidationResult(
                "Secrets:KeyEncryptionKey must be base64 of at least 32 random bytes (e.g. 'openssl rand -base64 32').",
                [nameof(KeyEncryptionKey)]);
        }
    }
}
