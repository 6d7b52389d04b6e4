using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.Secrets;

/// <summary>
/// Encrypts secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256, info
/// <c>AgentPlatform {purpose} encryption v1</c>) from <see cref="SecretsOptions.KeyEncryptionKey"/>, with the
/// secret's id as associated data so a ciphertext cannot be moved to another row. Stored as base64 of
/// nonce ‖ ciphertext ‖ tag.
/// </summary>
public sealed class SecretProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] keyEncryptionKey;
    private readonly ConcurrentDictionary<string, byte[]> purposeKeys = new(StringComparer.Ordinal);

    public SecretProtector(IOptions<SecretsOptions> options)
    {
        keyEncryptionKey = Convert.FromBase64String(options.Value.KeyEncryptionKey);
    }

    public static bool IsUsableKey(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var length) && length >= 32;
    }

    public string Protect(string purpose, string id, ReadOnlySpan<byte> plaintext)
    {
        var output = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(KeyFor(purpose), TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length), Encoding.UTF8.GetBytes(id));
        return Convert.ToBase64String(output);
    }

    public string ProtectString(string purpose, string id, string plaintext) =>
        Protect(purpose, id, Encoding.UTF8.GetBytes(plaintext));

    /// <summary>The plaintext; throws <see cref="CryptographicException"/> when the key-encryption key is not the one it was encrypted with.</summary>
    public byte[] Unprotect(string purpose, string id, string protectedValue)
    {
        byte[] input;
        try
        {
            input = Convert.FromBase64String(protectedValue);
        }
        catch (FormatException exception)
        {
            throw new CryptographicException($"The stored {purpose} '{id}' is not base64.", exception);
        }

        if (input.Length < NonceSize + TagSize)
        {
            throw new CryptographicException($"The stored {purpose} '{id}' is truncated.");
        }

        var plaintext = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(KeyFor(purpose), TagSize);
        try
        {
            aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize, plaintext.Length), input.AsSpan(NonceSize + plaintext.Length), plaintext, Encoding.UTF8.GetBytes(id));
        }
        catch (AuthenticationTagMismatchException exception)
        {
            throw new CryptographicException(
                $"Cannot decrypt the stored {purpose} '{id}': Secrets:KeyEncryptionKey is not the key it was encrypted with.", exception);
        }

        return plaintext;
    }

    public string UnprotectString(string purpose, string id, string protectedValue) =>
        Encoding.UTF8.GetString(Unprotect(purpose, id, protectedValue));

    // "AgentPlatform signing-key encryption v1" is the derivation signing keys were first stored under.
    private byte[] KeyFor(string purpose) => purposeKeys.GetOrAdd(purpose, static (p, kek) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, kek, 32, salt: [], info: Encoding.ASCII.GetBytes($"AgentPlatform {p} encryption v1")), keyEncryptionKey);
}
