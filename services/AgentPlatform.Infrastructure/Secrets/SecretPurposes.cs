namespace AgentPlatform.Infrastructure.Secrets;

/// <summary>
/// What a protected secret is for. Each purpose encrypts under its own derived key, so a ciphertext of one kind
/// can never be read as another.
/// </summary>
public static class SecretPurposes
{
    public const string SigningKey = "signing-key";
    public const string ProviderCredential = "provider-credential";
}
