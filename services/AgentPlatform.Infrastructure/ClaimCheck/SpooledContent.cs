using System.Buffers;
using System.Security.Cryptography;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// Content made re-readable with its SHA-256 and length known: the hash decides whether the bytes must be
/// uploaded at all, and the upload needs the length. A seekable stream is hashed in place and rewound; any
/// other stream is copied to a temporary file while hashing, so large payloads never sit in memory.
/// </summary>
internal sealed class SpooledContent : IAsyncDisposable
{
    private const int BufferSize = 81920;

    private readonly bool ownsContent;

    private SpooledContent(Stream content, long length, string sha256, bool ownsContent)
    {
        Content = content;
        Length = length;
        Sha256 = sha256;
        this.ownsContent = ownsContent;
    }

    /// <summary>The bytes, positioned at their start.</summary>
    public Stream Content { get; }

    public long Length { get; }

    /// <summary>Lowercase hex.</summary>
    public string Sha256 { get; }

    public static async Task<SpooledContent> CreateAsync(Stream source, CancellationToken cancellationToken)
    {
        if (source.CanSeek)
        {
            var start = source.Position;
            var hash = await SHA256.HashDataAsync(source, cancellationToken);
            var length = source.Position - start;
            source.Position = start;
            return new SpooledContent(source, length, Convert.ToHexStringLower(hash), ownsContent: false);
        }

        var file = new FileStream(
            Path.Combine(Path.GetTempPath(), $"agentplatform-payload-{Guid.NewGuid():N}"),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, BufferSize,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hasher.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            await file.FlushAsync(cancellationToken);
            file.Position = 0;
            return new SpooledContent(file, file.Length, Convert.ToHexStringLower(hasher.GetHashAndReset()), ownsContent: true);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public ValueTask DisposeAsync() => ownsContent ? Content.DisposeAsync() : ValueTask.CompletedTask;
}
