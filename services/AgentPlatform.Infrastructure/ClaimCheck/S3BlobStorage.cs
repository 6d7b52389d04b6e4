using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// The distributed topology's <see cref="IBlobStorage"/>: one object per key in one bucket of an
/// S3-compatible store (MinIO, AWS S3). The bucket is created on first write when it is missing. Only
/// whole-object PUT, GET, HEAD and DELETE are used: no listing and no ranged reads, which some S3
/// implementations and SDK versions get wrong.
/// </summary>
public sealed class S3BlobStorage : IBlobStorage, IDisposable
{
    private const string ObjectContentType = "application/octet-stream";

    private readonly IMinioClient client;
    private readonly string bucket;
    private readonly SemaphoreSlim bucketLock = new(1, 1);
    private volatile bool bucketReady;

    public S3BlobStorage(S3ConnectionSettings settings)
    {
        var builder = new MinioClient()
            .WithEndpoint(settings.Endpoint.Host, settings.Endpoint.Port)
            .WithSSL(settings.UseTls);
        if (settings.AccessKey is not null || settings.SecretKey is not null)
        {
            builder = builder.WithCredentials(settings.AccessKey, settings.SecretKey);
        }

        if (settings.Region is not null)
        {
            builder = builder.WithRegion(settings.Region);
        }

        client = builder.Build();
        bucket = settings.Bucket;
    }

    public string Bucket => bucket;

    public async Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken)
    {
        BlobKey.Require(key);
        await EnsureBucketAsync(cancellationToken);
        // An S3 object appears only when its upload (single or multipart) completes, so readers never see part of it.
        await client.PutObjectAsync(new PutObjectArgs()
            .WithBucket(bucket)
            .WithObject(key)
            .WithStreamData(content)
            .WithObjectSize(length)
            .WithContentType(ObjectContentType), cancellationToken);
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        BlobKey.Require(key);
        // The SDK hands out the response stream only inside a callback, so the object is spooled to a
        // temporary file that disappears when the caller disposes the stream.
        var spool = new FileStream(
            Path.Combine(Path.GetTempPath(), $"agentplatform-blob-{Guid.NewGuid():N}"),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        try
        {
            await client.GetObjectAsync(new GetObjectArgs()
                .WithBucket(bucket)
                .WithObject(key)
                .WithCallbackStream((stream, token) => stream.CopyToAsync(spool, token)), cancellationToken);
            spool.Position = 0;
            return spool;
        }
        catch (Exception exception) when (IsNotFound(exception))
        {
            await spool.DisposeAsync();
            return null;
        }
        catch
        {
            await spool.DisposeAsync();
            throw;
        }
    }

    public async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken)
    {
        BlobKey.Require(key);
        try
        {
            await client.StatObjectAsync(new StatObjectArgs().WithBucket(bucket).WithObject(key), cancellationToken);
            return true;
        }
        catch (Exception exception) when (IsNotFound(exception))
        {
            return false;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        BlobKey.Require(key);
        try
        {
            await client.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(bucket).WithObject(key), cancellationToken);
        }
        catch (BucketNotFoundException)
        {
        }
    }

    /// <summary>Whether the store answers and the bucket exists (it is created on first write otherwise).</summary>
    public Task<bool> BucketExistsAsync(CancellationToken cancellationToken) =>
        client.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket), cancellationToken);

    public void Dispose()
    {
        client.Dispose();
        bucketLock.Dispose();
    }

    private async Task EnsureBucketAsync(CancellationToken cancellationToken)
    {
        if (bucketReady)
        {
            return;
        }

        await bucketLock.WaitAsync(cancellationToken);
        try
        {
            if (!bucketReady && !await BucketExistsAsync(cancellationToken))
            {
                try
                {
                    await client.MakeBucketAsync(new MakeBucketArgs().WithBucket(bucket), cancellationToken);
                }
                catch (MinioException)
                {
                    // Fine when another instance created it first.
                    if (!await BucketExistsAsync(cancellationToken))
                    {
                        throw;
                    }
                }
            }

            bucketReady = true;
        }
        finally
        {
            bucketLock.Release();
        }
    }

    private static bool IsNotFound(Exception exception) => exception is ObjectNotFoundException or BucketNotFoundException;
}
