using System.Security.Cryptography;
using System.Text;
using AgentPlatform.Infrastructure.Secrets;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>Secrets at rest: bound to their purpose and id, and signing keys stored before the move stay readable.</summary>
public sealed class SecretProtectorTests
{
    private static readonly string KeyEncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void A_secret_round_trips_under_its_purpose_and_id()
    {
        var protector = Create(KeyEncryptionKey);

        var stored = protector.ProtectString(SecretPurposes.ProviderCredential, "id-1", "sk-live-1234");

        Assert.DoesNotContain("sk-live", stored, StringComparison.Ordinal);
        Assert.Equal("sk-live-1234", protector.UnprotectString(SecretPurposes.ProviderCredential, "id-1", stored));
    }

    [Fact]
    public void A_secret_cannot_be_read_under_another_id_purpose_or_key()
    {
        var protector = Create(KeyEncryptionKey);
        var stored = protector.ProtectString(SecretPurposes.ProviderCredential, "id-1", "sk-live-1234");

        Assert.Throws<CryptographicException>(() => protector.UnprotectString(SecretPurposes.ProviderCredential, "id-2", stored));
        Assert.Throws<CryptographicException>(() => protector.UnprotectString(SecretPurposes.SigningKey, "id-1", stored));
        var other = Create(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var failure = Assert.Throws<CryptographicException>(() => other.UnprotectString(SecretPurposes.ProviderCredential, "id-1", stored));
        Assert.Contains("Secrets:KeyEncryptionKey", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Signing_keys_encrypted_with_the_original_derivation_stay_readable()
    {
        // Exactly what the control plane's signing-key protector stored before secrets moved to the infrastructure.
        var legacyKey = HKDF.DeriveKey(
            HashAlgorithmName.SHA256, Convert.FromBase64String(KeyEncryptionKey), 32, salt: [], info: Encoding.ASCII.GetBytes("AgentPlatform signing-key encryption v1"));
        var plaintext = RandomNumberGenerator.GetBytes(64);
        var output = new byte[12 + plaintext.Length + 16];
        RandomNumberGenerator.Fill(output.AsSpan(0, 12));
        using (var aes = new AesGcm(legacyKey, 16))
        {
            aes.Encrypt(output.AsSpan(0, 12), plaintext, output.AsSpan(12, plaintext.Length), output.AsSpan(12 + plaintext.Length), Encoding.UTF8.GetBytes("kid-1"));
        }

        var decrypted = Create(KeyEncryptionKey).Unprotect(SecretPurposes.SigningKey, "kid-1", Convert.ToBase64String(output));

        Assert.Equal(plaintext, decrypted);
    }

    private static SecretProtector Create(string keyEncryptionKey) =>
        new(Options.Create(new SecretsOptions { KeyEncryptionKey = keyEncryptionKey }));
}
