namespace AgentPlatform.Domain.ClaimCheck;

/// <summary>
/// The claim check: large payloads are stored here and travel as an opaque reference id
/// (<c>context_ref_id</c>, <c>result_ref_id</c>). Payloads belong to the current tenant; another tenant's id
/// reads as not found. Content is addressed by its SHA-256, so storing the same bytes twice keeps one copy.
/// </summary>
public interface IPayloadStore
{
    /// <summary>Stores the content (read from its current position to the end) for the current tenant and returns its reference.</summary>
    /// <param name="timeToLive">How long the payload is kept; the configured default when null.</param>
    /// <exception cref="Tenancy.TenantAccessException">There is no current tenant.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The time to live is not positive or above the configured maximum.</exception>
    Task<PayloadReference> PutAsync(Stream content, string contentType, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>The reference's metadata, or null when it does not exist, has expired or is another tenant's.</summary>
    Task<PayloadReference?> GetAsync(string referenceId, CancellationToken cancellationToken = default);

    /// <summary>Opens the payload for reading, or null when <see cref="GetAsync"/> would return null.</summary>
    Task<PayloadContent?> OpenReadAsync(string referenceId, CancellationToken cancellationToken = default);
}

/// <summary>Metadata of a stored payload.</summary>
public sealed record PayloadReference(
    string Id,
    string TenantId,
    string Sha256,
    long Size,
    string ContentType,
    DateTime CreatedAt,
    DateTime ExpiresAt);

/// <summary>An open payload; dispose it to release the underlying stream.</summary>
public sealed class PayloadContent(PayloadReference reference, Stream content) : IAsyncDisposable
{
    public PayloadReference Reference { get; } = reference;

    public Stream Content { get; } = content;

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
