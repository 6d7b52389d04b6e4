using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// Encrypts signing keys' private halves at rest: AES-256-GCM under a key derived (HKDF-SHA256) from
/// <see cref="TokenServiceOptions.KeyEncryptionKey"/>, with the key id as associated data so a ciphertext
/// cannot be moved to another key's row. Stored as base64 of nonce ‖ ciphertext ‖ tag.
/// </summary>
public sealed class SigningKeyProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] DerivationInfo = Encoding.ASCII.GetBytes("AgentPlatform signing-key encryption v1");

    private readonly byte[] key;

    public SigningKeyProtector(IOptions<TokenServiceOptions> options)
    {
        key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Convert.FromBase64String(options.Value.KeyEncryptionKey), 32, salt: [], info: DerivationInfo);
    }

    public static bool IsUsableKey(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var length) && length >= 32;
    }

    public string Protect(string kid, ReadOnlySpan<byte> plaintext)
    {
        var output = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length), Encoding.UTF8.GetBytes(kid));
        return Convert.ToBase64String(output);
    }

    /// <summary>The plaintext; throws <see cref="CryptographicException"/> when the key-encryption key is not the one it was encrypted with.</summary>
    public byte[] Unprotect(string kid, string protectedValue)
    {
        var input = Convert.FromBase64String(protectedValue);
        if (input.Length < NonceSize + TagSize)
        {
            throw new CryptographicException($"The stored private key of signing key '{kid}' is truncated.");
        }

        var plaintext = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        try
        {
            aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize, plaintext.Length), input.AsSpan(NonceSize + plaintext.Length), plaintext, Encoding.UTF8.GetBytes(kid));
        }
        catch (AuthenticationTagMismatchException exception)
        {
            throw new CryptographicException(
                $"Cannot decrypt the private key of signing key '{kid}': Identity:KeyEncryptionKey is not the key it was encrypted with.", exception);
        }

        return plaintext;
    }
}
