namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// The embedded topology's <see cref="IBlobStorage"/>: one file per object under a root directory. A put
/// writes a temporary file in <c>.incoming</c> (a name no key can take) and renames it into place, so a
/// reader never sees a partial object, even after a crash.
/// </summary>
public sealed class LocalDirectoryBlobStorage : IBlobStorage
{
    private const int BufferSize = 81920;

    private readonly string root;
    private readonly string incoming;

    public LocalDirectoryBlobStorage(string rootDirectory)
    {
        root = Path.GetFullPath(rootDirectory);
        incoming = Path.Combine(root, ".incoming");
    }

    public string RootDirectory => root;

    public async Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(incoming);
        var temporary = Path.Combine(incoming, Guid.NewGuid().ToString("N"));
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, BufferSize, cancellationToken);
                if (file.Length != length)
                {
                    throw new IOException($"Expected {length} bytes for '{key}' but the content had {file.Length}.");
                }

                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }

            MoveIntoPlace(temporary, path);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            // FileShare.Delete: cleanup may remove the object while a reader still streams it.
            Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => Task.FromResult(File.Exists(PathOf(key)));

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.CompletedTask;
        }

        PruneEmptyDirectories(Path.GetDirectoryName(path)!);
        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Join(root, BlobKey.Require(key)));
        // BlobKey already rules out traversal; this guards the mapping itself.
        return path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? path
            : throw new ArgumentException($"The key '{key}' leads outside the storage root.", nameof(key));
    }

    private static void MoveIntoPlace(string temporary, string path)
    {
        // A concurrent delete may prune the directory between its creation and the move: create it again.
        for (var attempt = 1; ; attempt++)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            try
            {
                File.Move(temporary, path, overwrite: true);
                return;
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>Removes directories that the delete left empty, so expired content leaves no trace behind.</summary>
    private void PruneEmptyDirectories(string directory)
    {
        while (directory.Length > root.Length && directory.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(directory, recursive: false);
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (IOException)
            {
                // Not empty (or in use): everything above it is not empty either.
                return;
            }

            directory = Path.GetDirectoryName(directory)!;
        }
    }
}
