using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// The platform's opaque credentials: 256 random bits behind a prefix that says what they are (so secret scanners
/// and the gateway recognise them), stored only as their SHA-256. A plain hash is enough for secrets this
/// random; a slow password hash would only slow every request down.
/// </summary>
public static class Secrets
{
    public const string RefreshTokenPrefix = "rt_";
    public const string ApiKeyPrefix = "apk_";
    public const string ClientIdPrefix = "cli_";
    public const string ClientSecretPrefix = "cs_";

    /// <summary>Longer input is no credential of ours: refused before any lookup.</summary>
    public const int MaxLength = 128;

    /// <summary>Characters of an API key shown in listings to tell keys apart.</summary>
    public const int DisplayPrefixLength = 12;

    public static string Generate(string prefix) => prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>A public identifier (not a secret): shorter, still unguessable.</summary>
    public static string GenerateId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>Lowercase hex SHA-256, the stored form.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static bool IsWellFormed(string? value, string prefix) =>
        value is { Length: > 0 and <= MaxLength } && value.StartsWith(prefix, StringComparison.Ordinal);

    /// <summary>Compares two stored hashes in constant time.</summary>
    public static bool HashesEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
