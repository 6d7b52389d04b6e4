using System.Data.Common;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Testing;

namespace AgentPlatform.Infrastructure.Tests.ClaimCheck;

/// <summary>The blob storage port's contract, run against the local directory and S3.</summary>
public abstract class BlobStorageContract : IAsyncLifetime
{
    private IBlobStorage? storage;

    protected IBlobStorage Storage => storage!;

    protected abstract IBlobStorage CreateStorage();

    public ValueTask InitializeAsync()
    {
        storage = CreateStorage();
        return ValueTask.CompletedTask;
    }

    public virtual ValueTask DisposeAsync()
    {
        (storage as IDisposable)?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_stored_object_reads_back_whole()
    {
        var bytes = RandomBytes(100_000);
        await Storage.PutAsync("tenants/acme/object-1", new MemoryStream(bytes), bytes.Length, TestContext.Current.CancellationToken);

        Assert.True(await Storage.ExistsAsync("tenants/acme/object-1", TestContext.Current.CancellationToken));
        Assert.Equal(bytes, await ReadAsync("tenants/acme/object-1"));
    }

    [Fact]
    public async Task A_missing_object_reads_as_null_and_does_not_exist()
    {
        Assert.False(await Storage.ExistsAsync("tenants/acme/missing", TestContext.Current.CancellationToken));
        Assert.Null(await Storage.OpenReadAsync("tenants/acme/missing", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_put_replaces_the_object_at_its_key()
    {
        await Storage.PutAsync("replaced", new MemoryStream([1, 2, 3]), 3, TestContext.Current.CancellationToken);
        await Storage.PutAsync("replaced", new MemoryStream([4, 5]), 2, TestContext.Current.CancellationToken);
        Assert.Equal([4, 5], await ReadAsync("replaced"));
    }

    [Fact]
    public async Task Delete_removes_the_object_and_deleting_again_is_fine()
    {
        await Storage.PutAsync("a/b/deleted", new MemoryStream([1]), 1, TestContext.Current.CancellationToken);
        await Storage.PutAsync("a/b/kept", new MemoryStream([2]), 1, TestContext.Current.CancellationToken);

        await Storage.DeleteAsync("a/b/deleted", TestContext.Current.CancellationToken);
        await Storage.DeleteAsync("a/b/deleted", TestContext.Current.CancellationToken);
        await Storage.DeleteAsync("never/stored", TestContext.Current.CancellationToken);

        Assert.False(await Storage.ExistsAsync("a/b/deleted", TestContext.Current.CancellationToken));
        Assert.Null(await Storage.OpenReadAsync("a/b/deleted", TestContext.Current.CancellationToken));
        Assert.Equal([2], await ReadAsync("a/b/kept"));
    }

    [Fact]
    public async Task An_open_stream_outlives_the_deletion_of_its_object()
    {
        var bytes = RandomBytes(10_000);
        await Storage.PutAsync("streamed", new MemoryStream(bytes), bytes.Length, TestContext.Current.CancellationToken);

        await using var stream = await Storage.OpenReadAsync("streamed", TestContext.Current.CancellationToken);
        await Storage.DeleteAsync("streamed", TestContext.Current.CancellationToken);

        using var copy = new MemoryStream();
        await stream!.CopyToAsync(copy, TestContext.Current.CancellationToken);
        Assert.Equal(bytes, copy.ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("a/./b")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a\\b")]
    [InlineData(".hidden")]
    [InlineData("Upper")]
    [InlineData("with space")]
    [InlineData("line\n")]
    public async Task Keys_that_could_escape_or_differ_between_adapters_are_rejected(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.PutAsync(key, new MemoryStream([1]), 1, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.OpenReadAsync(key, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.ExistsAsync(key, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.DeleteAsync(key, TestContext.Current.CancellationToken));
    }

    protected async Task<byte[]?> ReadAsync(string key)
    {
        await using var stream = await Storage.OpenReadAsync(key, TestContext.Current.CancellationToken);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, TestContext.Current.CancellationToken);
        return copy.ToArray();
    }

    protected static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}

public sealed class LocalDirectoryBlobStorageTests : BlobStorageContract
{
    private readonly string root = Directory.CreateTempSubdirectory("agentplatform-blobs-").FullName;

    protected override IBlobStorage CreateStorage() => new LocalDirectoryBlobStorage(root);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task Deleting_the_last_object_of_a_directory_removes_the_empty_directories()
    {
        await Storage.PutAsync("tenants/acme/sha256/ab/abc/one", new MemoryStream([1]), 1, TestContext.Current.CancellationToken);
        await Storage.PutAsync("tenants/acme/other", new MemoryStream([2]), 1, TestContext.Current.CancellationToken);

        await Storage.DeleteAsync("tenants/acme/sha256/ab/abc/one", TestContext.Current.CancellationToken);

        Assert.False(Directory.Exists(Path.Combine(root, "tenants", "acme", "sha256")));
        Assert.True(File.Exists(Path.Combine(root, "tenants", "acme", "other")));
    }

    [Fact]
    public async Task A_write_that_fails_leaves_neither_the_object_nor_a_temporary_file()
    {
        await Assert.ThrowsAsync<IOException>(() => Storage.PutAsync("short", new MemoryStream([1, 2]), 3, TestContext.Current.CancellationToken));

        Assert.False(await Storage.ExistsAsync("short", TestContext.Current.CancellationToken));
        Assert.Empty(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories));
    }
}

[Trait("Category", "Infrastructure")]
public sealed class S3BlobStorageTests : BlobStorageContract
{
    /// <summary>
    /// The test server's connection string with a bucket of the caller's. Tests use a fresh bucket each: the
    /// first put creates it, and no test sees another's objects.
    /// </summary>
    public static string ConnectionString(string bucket)
    {
        var connection = new DbConnectionStringBuilder { ConnectionString = TestInfrastructure.S3 };
        connection["Bucket"] = bucket;
        return connection.ConnectionString;
    }

    protected override IBlobStorage CreateStorage() => new S3BlobStorage(S3ConnectionSettings.Parse(ConnectionString($"test-{Guid.NewGuid():N}")));

    [Fact]
    public async Task The_bucket_is_created_by_the_first_write()
    {
        var storage = (S3BlobStorage)Storage;
        Assert.False(await storage.BucketExistsAsync(TestContext.Current.CancellationToken));

        await storage.PutAsync("first", new MemoryStream([1]), 1, TestContext.Current.CancellationToken);

        Assert.True(await storage.BucketExistsAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_object_larger_than_one_part_is_uploaded_in_parts_and_reads_back_whole()
    {
        var bytes = RandomBytes((6 * 1024 * 1024) + 123);
        await Storage.PutAsync("multipart", new MemoryStream(bytes), bytes.Length, TestContext.Current.CancellationToken);
        Assert.Equal(bytes, await ReadAsync("multipart"));
    }
}

public sealed class S3ConnectionSettingsTests
{
    [Fact]
    public void A_full_connection_string_is_understood()
    {
        var settings = S3ConnectionSettings.Parse("Endpoint=https://s3.example.com:9443;AccessKey=ak;SecretKey=sk;Bucket=payloads;Region=eu-west-1");

        Assert.Equal(new Uri("https://s3.example.com:9443"), settings.Endpoint);
        Assert.True(settings.UseTls);
        Assert.Equal(("ak", "sk", "payloads", "eu-west-1"), (settings.AccessKey, settings.SecretKey, settings.Bucket, settings.Region));
        Assert.DoesNotContain("sk", settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bucket_and_region_are_optional()
    {
        var settings = S3ConnectionSettings.Parse("endpoint=http://127.0.0.1:9000");

        Assert.False(settings.UseTls);
        Assert.Equal(S3ConnectionSettings.DefaultBucket, settings.Bucket);
        Assert.Null(settings.Region);
        Assert.Null(settings.AccessKey);
    }

    [Theory]
    [InlineData("AccessKey=ak")]
    [InlineData("Endpoint=127.0.0.1:9000")]
    [InlineData("Endpoint=ftp://127.0.0.1")]
    [InlineData("Endpoint=http://127.0.0.1:9000/prefix")]
    [InlineData("Endpoint=http://127.0.0.1:9000;Bucket=Not_Valid")]
    public void A_malformed_connection_string_is_rejected(string connectionString)
    {
        Assert.Throws<FormatException>(() => S3ConnectionSettings.Parse(connectionString));
    }
}
