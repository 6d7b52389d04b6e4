using System.Text.RegularExpressions;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// Object keys: '/'-separated segments of lowercase letters, digits, '.', '_' and '-', each starting with a
/// letter or digit. That rules out empty segments, "." and "..", so a key maps to a path inside the
/// storage root on any file system and means the same thing in every adapter.
/// </summary>
public static partial class BlobKey
{
    public const int MaxLength = 300;

    public static bool IsValid(string? key) => key is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(key);

    public static string Require(string? key) =>
        IsValid(key) ? key! : throw new ArgumentException($"'{key}' is not a valid blob key.", nameof(key));

    /// <summary>
    /// The key of one generation of a tenant's content: tenant-scoped, content-addressed and unique per
    /// generation, so deleting an expired generation never touches bytes a newer one holds.
    /// </summary>
    public static string ForPayload(string tenantId, string sha256, Guid generation) =>
        Require($"tenants/{tenantId}/sha256/{sha256[..2]}/{sha256}/{generation:N}");

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
