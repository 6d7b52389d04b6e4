using System.Globalization;
using System.Text.Json;
using MudBlazor;

namespace AgentPlatform.Console.Audit;

/// <summary>How audit records and the chain's verification read on the page.</summary>
public static class AuditFormat
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A record's details indented when they are JSON, as they are otherwise; a dash when there are none.</summary>
    public static string Details(string? details)
    {
        if (string.IsNullOrWhiteSpace(details))
        {
            return "—";
        }

        try
        {
            using var document = JsonDocument.Parse(details);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return details;
        }
    }

    /// <summary>The first characters of a hash, for a table cell; the full one is in the record's details.</summary>
    public static string ShortHash(string? hash) => hash is { Length: > 12 } ? hash[..12] + "…" : hash ?? "—";

    public static string Actor(AuditRecord record) => $"{record.ActorType}:{record.ActorId}";

    public static string Target(AuditRecord record) => $"{record.TargetType}/{record.TargetId}";

    /// <summary>What a verification means, as the page says it.</summary>
    public static VerificationMessage Verification(AuditVerification verification)
    {
        ArgumentNullException.ThrowIfNull(verification);
        var verified = verification.VerifiedRecords.ToString("N0", CultureInfo.InvariantCulture);
        if (verification.IsValid)
        {
            return new(Severity.Success, "The hash chain is intact.",
                verification.VerifiedRecords == 0
                    ? "The audit trail has no records yet."
                    : $"All {verified} records verified; each one's hash matches its content and its predecessor's hash.",
                verification.LastHash);
        }

        var at = verification.FirstInvalidSequence?.ToString(CultureInfo.InvariantCulture) ?? "?";
        return new(Severity.Error, $"The hash chain is broken at record {at}.",
            $"{verification.Problem} The {verified} records before it verified. Records from {at} on cannot be trusted.",
            null);
    }
}

/// <summary>A verification result as shown: how alarming, its headline, what it means, and the chain's head when intact.</summary>
public sealed record VerificationMessage(Severity Severity, string Title, string Detail, string? LastHash);
