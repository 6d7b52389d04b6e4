using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace AgentPlatform.Domain.Tenancy;

/// <summary>Rules for tenant identifiers: lowercase slugs, safe in storage keys, topic names and URLs.</summary>
public static partial class TenantId
{
    public const int MaxLength = 63;

    public static bool IsValid([NotNullWhen(true)] string? value) =>
        value is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(value);

    public static string Require(string? value) =>
        IsValid(value)
            ? value
            : throw new ArgumentException($"'{value}' is not a valid tenant id: use 1-{MaxLength} lowercase letters, digits and '-', starting with a letter or digit.", nameof(value));

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
