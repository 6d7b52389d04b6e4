namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// Where the claim check keeps payload bytes: objects under keys (see <see cref="BlobKey"/>). An object is
/// written whole and never changed afterwards; a reader sees all of it or nothing. What the bytes mean and
/// who may read them is the <see cref="PayloadStore"/>'s business, not the storage's.
/// </summary>
public interface IBlobStorage
{
    /// <summary>Stores exactly <paramref name="length"/> bytes read from <paramref name="content"/>, replacing any object at the key.</summary>
    Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken);

    /// <summary>Opens the object for reading, or null when there is none. Dispose the stream.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes the object; deleting one that does not exist is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}
