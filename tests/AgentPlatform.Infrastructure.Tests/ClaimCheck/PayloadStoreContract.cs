using System.Security.Cryptography;
using System.Text;
using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Testing;
using AgentPlatform.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Infrastructure.Tests.ClaimCheck;

/// <summary>
/// The claim check's contract: <see cref="PayloadStore"/> and <see cref="PayloadCleanup"/> over a real
/// relational store and a real blob storage, on a fake clock so expiry is exact.
/// </summary>
public abstract class PayloadStoreContract : DatabaseTest
{
    private static readonly TimeSpan GracePeriod = TimeSpan.FromMinutes(10);

    private IReadOnlyDictionary<string, string?>? blobStorageConfiguration;
    private PlatformTestHost? host;

    protected FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected PlatformTestHost Host => host!;

    protected IBlobStorage Blobs => Host.Services.GetRequiredService<IBlobStorage>();

    /// <summary>Configuration that selects the blob storage; empty for the local directory.</summary>
    protected abstract IReadOnlyDictionary<string, string?> BlobStorageConfiguration { get; }

    public override async ValueTask InitializeAsync()
    {
        // Read first: it skips the test when the service is not configured, and a skipped test is not disposed.
        blobStorageConfiguration = BlobStorageConfiguration;
        await base.InitializeAsync();
        host = await CreateClaimCheckHostAsync(start: false);
    }

    [Fact]
    public async Task Stored_content_reads_back_with_its_metadata()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"question":"what is the claim check?"}""");
        var stored = await PutAsync("acme", bytes, "application/json");

        Assert.StartsWith(PayloadStore.ReferencePrefix, stored.Id, StringComparison.Ordinal);
        Assert.Equal(36, stored.Id.Length);
        Assert.Equal("acme", stored.TenantId);
        Assert.Equal(Sha256(bytes), stored.Sha256);
        Assert.Equal(bytes.Length, stored.Size);
        Assert.Equal("application/json", stored.ContentType);
        Assert.Equal(new ClaimCheckOptions().DefaultTimeToLive, stored.ExpiresAt - stored.CreatedAt);
        Assert.InRange(stored.CreatedAt, Clock.GetUtcNow().UtcDateTime.AddMilliseconds(-1), Clock.GetUtcNow().UtcDateTime);

        Assert.Equal(stored, await GetAsync("acme", stored.Id));
        var (reference, content) = await ReadAsync("acme", stored.Id);
        Assert.Equal(stored, reference);
        Assert.Equal(bytes, content);
    }

    [Fact]
    public async Task A_large_payload_from_an_unseekable_stream_round_trips()
    {
        var bytes = RandomNumberGenerator.GetBytes((6 * 1024 * 1024) + 123);
        var stored = await PutAsync("acme", bytes, "application/octet-stream", seekable: false);

        Assert.Equal(Sha256(bytes), stored.Sha256);
        Assert.Equal(bytes.Length, stored.Size);
        Assert.Equal(bytes, (await ReadAsync("acme", stored.Id)).Content);
    }

    [Fact]
    public async Task The_same_content_stored_twice_keeps_one_blob_that_lives_as_long_as_its_longest_reference()
    {
        var bytes = Encoding.UTF8.GetBytes("shared content");
        var first = await PutAsync("acme", bytes, "text/plain", TimeSpan.FromHours(1));
        var second = await PutAsync("acme", bytes, "text/markdown", TimeSpan.FromDays(2));
        var third = await PutAsync("acme", bytes, "text/plain", TimeSpan.FromHours(2));

        Assert.Equal(3, new[] { first.Id, second.Id, third.Id }.Distinct().Count());
        var blob = Assert.Single(await AllBlobsAsync());
        Assert.Equal(second.ExpiresAt, blob.ExpiresAt);
        Assert.Equal("text/markdown", (await GetAsync("acme", second.Id))!.ContentType);
        Assert.Equal(bytes, (await ReadAsync("acme", first.Id)).Content);
        Assert.Equal(bytes, (await ReadAsync("acme", third.Id)).Content);
    }

    [Fact]
    public async Task Tenants_storing_the_same_content_get_separate_tenant_scoped_blobs()
    {
        var bytes = Encoding.UTF8.GetBytes("the same bytes for two tenants");
        var sha = Sha256(bytes);
        var acme = await PutAsync("acme", bytes, "text/plain");
        var globex = await PutAsync("globex", bytes, "text/plain");

        var blobs = await AllBlobsAsync();
        Assert.Equal(2, blobs.Count);
        Assert.StartsWith($"tenants/acme/sha256/{sha[..2]}/{sha}/", blobs.Single(b => b.TenantId == "acme").StorageKey, StringComparison.Ordinal);
        Assert.StartsWith($"tenants/globex/sha256/{sha[..2]}/{sha}/", blobs.Single(b => b.TenantId == "globex").StorageKey, StringComparison.Ordinal);
        Assert.Equal(bytes, (await ReadAsync("acme", acme.Id)).Content);
        Assert.Equal(bytes, (await ReadAsync("globex", globex.Id)).Content);
    }

    [Fact]
    public async Task Another_tenants_reference_reads_as_not_found()
    {
        var stored = await PutAsync("acme", Encoding.UTF8.GetBytes("acme only"), "text/plain");

        Assert.Null(await GetAsync("globex", stored.Id));
        await using (var scope = Host.CreateTenantScope("globex"))
        {
            Assert.Null(await scope.ServiceProvider.GetRequiredService<IPayloadStore>().OpenReadAsync(stored.Id, TestContext.Current.CancellationToken));
        }

        await using (var anonymous = Host.CreateAnonymousScope())
        {
            Assert.Null(await anonymous.ServiceProvider.GetRequiredService<IPayloadStore>().GetAsync(stored.Id, TestContext.Current.CancellationToken));
        }

        Assert.Null(await GetAsync("acme", "ref_00000000000000000000000000000000"));
        Assert.NotNull(await GetAsync("acme", stored.Id));
    }

    [Fact]
    public async Task Without_a_tenant_nothing_is_stored()
    {
        await using (var anonymous = Host.CreateAnonymousScope())
        {
            await Assert.ThrowsAsync<TenantAccessException>(() => anonymous.ServiceProvider.GetRequiredService<IPayloadStore>()
                .PutAsync(new MemoryStream([1, 2, 3]), "text/plain", cancellationToken: TestContext.Current.CancellationToken));
        }

        await using (var system = Host.CreateSystemScope())
        {
            await Assert.ThrowsAsync<TenantAccessException>(() => system.ServiceProvider.GetRequiredService<IPayloadStore>()
                .PutAsync(new MemoryStream([1, 2, 3]), "text/plain", cancellationToken: TestContext.Current.CancellationToken));
        }

        Assert.Empty(await AllBlobsAsync());
        Assert.Empty(await AllRecordsAsync());
    }

    [Fact]
    public async Task The_time_to_live_must_be_positive_and_within_the_maximum()
    {
        var maximum = new ClaimCheckOptions().MaxTimeToLive;
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => PutAsync("acme", [1], "text/plain", maximum + TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => PutAsync("acme", [1], "text/plain", TimeSpan.Zero));
        Assert.Empty(await AllRecordsAsync());

        var longest = await PutAsync("acme", [1], "text/plain", maximum);
        Assert.Equal(maximum, longest.ExpiresAt - longest.CreatedAt);
    }

    [Fact]
    public async Task An_expired_reference_reads_as_not_found()
    {
        var stored = await PutAsync("acme", Encoding.UTF8.GetBytes("short-lived"), "text/plain", TimeSpan.FromHours(1));

        Clock.Advance(TimeSpan.FromHours(1) - TimeSpan.FromMilliseconds(1));
        Assert.NotNull(await GetAsync("acme", stored.Id));

        Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await GetAsync("acme", stored.Id));
        await using var scope = Host.CreateTenantScope("acme");
        Assert.Null(await scope.ServiceProvider.GetRequiredService<IPayloadStore>().OpenReadAsync(stored.Id, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Cleanup_removes_expired_references_and_their_objects_but_keeps_a_blob_a_live_reference_uses()
    {
        var shared = Encoding.UTF8.GetBytes("used by a short and a long reference");
        var alone = Encoding.UTF8.GetBytes("used by one short reference");
        var shortShared = await PutAsync("acme", shared, "text/plain", TimeSpan.FromHours(1));
        var longShared = await PutAsync("acme", shared, "text/plain", TimeSpan.FromDays(2));
        var shortAlone = await PutAsync("globex", alone, "text/plain", TimeSpan.FromHours(1));
        var sharedKey = (await AllBlobsAsync()).Single(b => b.Sha256 == shortShared.Sha256).StorageKey;
        var aloneKey = (await AllBlobsAsync()).Single(b => b.Sha256 == shortAlone.Sha256).StorageKey;

        Clock.Advance(TimeSpan.FromHours(1) + GracePeriod);
        var result = await RunCleanupAsync();

        Assert.Equal(new PayloadCleanupResult(RecordsDeleted: 2, BlobsDeleted: 1, ObjectDeleteFailures: 0), result);
        Assert.Equal([longShared.Id], (await AllRecordsAsync()).Select(r => r.Id));
        Assert.Equal([sharedKey], (await AllBlobsAsync()).Select(b => b.StorageKey));
        Assert.False(await Blobs.ExistsAsync(aloneKey, TestContext.Current.CancellationToken));
        Assert.True(await Blobs.ExistsAsync(sharedKey, TestContext.Current.CancellationToken));
        Assert.Equal(shared, (await ReadAsync("acme", longShared.Id)).Content);
        Assert.Equal(PayloadCleanupResult.Nothing, await RunCleanupAsync());
    }

    [Fact]
    public async Task Cleanup_leaves_an_expired_blob_alone_during_the_grace_period()
    {
        var stored = await PutAsync("acme", Encoding.UTF8.GetBytes("graceful"), "text/plain", TimeSpan.FromHours(1));
        var key = Assert.Single(await AllBlobsAsync()).StorageKey;

        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(new PayloadCleanupResult(1, 0, 0), await RunCleanupAsync());
        Assert.True(await Blobs.ExistsAsync(key, TestContext.Current.CancellationToken));
        Assert.Null(await GetAsync("acme", stored.Id));

        Clock.Advance(GracePeriod);
        Assert.Equal(new PayloadCleanupResult(0, 1, 0), await RunCleanupAsync());
        Assert.False(await Blobs.ExistsAsync(key, TestContext.Current.CancellationToken));
        Assert.Empty(await AllBlobsAsync());
    }

    [Fact]
    public async Task A_put_after_the_blob_expired_starts_a_new_generation_that_cleanup_of_the_old_one_leaves_readable()
    {
        var bytes = Encoding.UTF8.GetBytes("content that outlives its first blob");
        await PutAsync("acme", bytes, "text/plain", TimeSpan.FromHours(1));
        var oldGeneration = Assert.Single(await AllBlobsAsync());

        // Expired but not yet cleaned up: reusing it would hand out bytes that cleanup is about to delete.
        Clock.Advance(TimeSpan.FromHours(1));
        var renewed = await PutAsync("acme", bytes, "text/plain", TimeSpan.FromDays(1));
        var newGeneration = Assert.Single(await AllBlobsAsync(), b => b.Id != oldGeneration.Id);
        Assert.NotEqual(oldGeneration.StorageKey, newGeneration.StorageKey);
        Assert.Equal(oldGeneration.Sha256, newGeneration.Sha256);
        Assert.Equal(newGeneration.Id, (await AllRecordsAsync()).Single(r => r.Id == renewed.Id).BlobId);

        Clock.Advance(GracePeriod);
        Assert.Equal(new PayloadCleanupResult(1, 1, 0), await RunCleanupAsync());

        Assert.False(await Blobs.ExistsAsync(oldGeneration.StorageKey, TestContext.Current.CancellationToken));
        Assert.True(await Blobs.ExistsAsync(newGeneration.StorageKey, TestContext.Current.CancellationToken));
        Assert.Equal(bytes, (await ReadAsync("acme", renewed.Id)).Content);
    }

    [Fact]
    public async Task Cleanup_never_deletes_a_blob_that_a_live_reference_uses_even_when_the_blob_row_says_it_expired()
    {
        var bytes = Encoding.UTF8.GetBytes("protected by its reference");
        var stored = await PutAsync("acme", bytes, "text/plain", TimeSpan.FromDays(1));
        await using (var system = Host.CreateSystemScope())
        {
            var past = Clock.GetUtcNow().UtcDateTime - TimeSpan.FromDays(1);
            await system.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().PayloadBlobs.IgnoreQueryFilters()
                .ExecuteUpdateAsync(set => set.SetProperty(b => b.ExpiresAt, past), TestContext.Current.CancellationToken);
        }

        Assert.Equal(PayloadCleanupResult.Nothing, await RunCleanupAsync());
        Assert.Equal(bytes, (await ReadAsync("acme", stored.Id)).Content);
    }

    [Fact]
    public async Task A_failed_upload_leaves_no_metadata_and_no_object()
    {
        var failing = new UploadThenFailBlobStorage(Blobs);
        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var store = new PayloadStore(
                scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>(),
                scope.ServiceProvider.GetRequiredService<ITenantContext>(),
                failing,
                scope.ServiceProvider.GetRequiredService<IOptions<ClaimCheckOptions>>(),
                Clock,
                NullLogger<PayloadStore>.Instance);
            await Assert.ThrowsAsync<IOException>(() => store.PutAsync(new MemoryStream([1, 2, 3]), "text/plain", cancellationToken: TestContext.Current.CancellationToken));
        }

        Assert.Empty(await AllBlobsAsync());
        Assert.Empty(await AllRecordsAsync());
        var attempted = Assert.Single(failing.AttemptedKeys);
        Assert.False(await Blobs.ExistsAsync(attempted, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task The_cleanup_service_runs_passes_under_its_lease_and_releases_it_on_stop()
    {
        await PutAsync("acme", Encoding.UTF8.GetBytes("to be cleaned by the service"), "text/plain", TimeSpan.FromHours(1));
        Clock.Advance(TimeSpan.FromHours(1) + GracePeriod);
        var leases = Host.Services.GetRequiredService<DistributedLeaseManager>();

        await using (await CreateClaimCheckHostAsync(start: true))
        {
            // The service's first pass starts with the host; poll real time for its result.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await AllBlobsAsync()).Count > 0 || (await AllRecordsAsync()).Count > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "The cleanup service did not clean up within 30 s.");
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            Assert.False(await leases.TryAcquireAsync(PayloadCleanupService.LeaseName, "another-instance", TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken));
        }

        Assert.True(await leases.TryAcquireAsync(PayloadCleanupService.LeaseName, "another-instance", TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken));
    }

    private async Task<PlatformTestHost> CreateClaimCheckHostAsync(bool start)
    {
        var configuration = new Dictionary<string, string?>(blobStorageConfiguration!)
        {
            [$"{ClaimCheckOptions.SectionName}:{nameof(ClaimCheckOptions.CleanupGracePeriod)}"] = GracePeriod.ToString(),
            [$"{ClaimCheckOptions.SectionName}:{nameof(ClaimCheckOptions.CleanupBatchSize)}"] = "2",
        };
        return await CreateHostAsync(builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(Clock);
            // Both, as the Worker may call them: registering the claim check twice must be harmless.
            builder.AddPlatformClaimCheck();
            builder.AddPayloadCleanup();
        }, configuration, start);
    }

    private async Task<PayloadReference> PutAsync(string tenantId, byte[] bytes, string contentType, TimeSpan? timeToLive = null, bool seekable = true)
    {
        await using var scope = Host.CreateTenantScope(tenantId);
        var store = scope.ServiceProvider.GetRequiredService<IPayloadStore>();
        Stream content = seekable ? new MemoryStream(bytes) : new UnseekableStream(bytes);
        return await store.PutAsync(content, contentType, timeToLive, TestContext.Current.CancellationToken);
    }

    private async Task<PayloadReference?> GetAsync(string tenantId, string referenceId)
    {
        await using var scope = Host.CreateTenantScope(tenantId);
        return await scope.ServiceProvider.GetRequiredService<IPayloadStore>().GetAsync(referenceId, TestContext.Current.CancellationToken);
    }

    private async Task<(PayloadReference Reference, byte[] Content)> ReadAsync(string tenantId, string referenceId)
    {
        await using var scope = Host.CreateTenantScope(tenantId);
        var opened = await scope.ServiceProvider.GetRequiredService<IPayloadStore>().OpenReadAsync(referenceId, TestContext.Current.CancellationToken);
        Assert.NotNull(opened);
        await using (opened)
        {
            using var copy = new MemoryStream();
            await opened.Content.CopyToAsync(copy, TestContext.Current.CancellationToken);
            return (opened.Reference, copy.ToArray());
        }
    }

    private Task<PayloadCleanupResult> RunCleanupAsync() =>
        Host.Services.GetRequiredService<PayloadCleanup>().RunOnceAsync(TestContext.Current.CancellationToken);

    private async Task<List<PayloadBlob>> AllBlobsAsync()
    {
        await using var scope = Host.CreateSystemScope();
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().PayloadBlobs
            .IgnoreQueryFilters().AsNoTracking().ToListAsync(TestContext.Current.CancellationToken);
    }

    private async Task<List<PayloadRecord>> AllRecordsAsync()
    {
        await using var scope = Host.CreateSystemScope();
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().PayloadRecords
            .IgnoreQueryFilters().AsNoTracking().ToListAsync(TestContext.Current.CancellationToken);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Stores the object, then reports failure, as a connection lost before the reply would.</summary>
    private sealed class UploadThenFailBlobStorage(IBlobStorage inner) : IBlobStorage
    {
        public List<string> AttemptedKeys { get; } = [];

        public async Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken)
        {
            AttemptedKeys.Add(key);
            await inner.PutAsync(key, content, length, cancellationToken);
            throw new IOException("The connection was lost before the store confirmed the upload.");
        }

        public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken) => inner.OpenReadAsync(key, cancellationToken);

        public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => inner.ExistsAsync(key, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);
    }

    /// <summary>A request body: readable once, front to back.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override long Length => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }
}

public sealed class SqliteLocalDirectoryPayloadStoreTests : PayloadStoreContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();

    protected override IReadOnlyDictionary<string, string?> BlobStorageConfiguration => new Dictionary<string, string?>();

    [Fact]
    public void Without_an_objectstore_connection_string_payloads_live_in_the_data_directory()
    {
        var storage = Assert.IsType<LocalDirectoryBlobStorage>(Blobs);
        var dataDirectory = Host.Services.GetRequiredService<IOptions<PlatformOptions>>().Value.DataDirectory;
        Assert.Equal(Path.Combine(Path.GetFullPath(dataDirectory), ClaimCheckExtensions.PayloadDirectoryName), storage.RootDirectory);
    }
}

[Trait("Category", "Infrastructure")]
public sealed class SqliteS3PayloadStoreTests : PayloadStoreContract
{
    private readonly string bucket = $"test-{Guid.NewGuid():N}";

    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();

    protected override IReadOnlyDictionary<string, string?> BlobStorageConfiguration => S3Configuration(bucket);

    [Fact]
    public async Task With_an_objectstore_connection_string_payloads_live_in_its_bucket_and_it_reports_healthy()
    {
        var storage = Assert.IsType<S3BlobStorage>(Blobs);
        Assert.Equal(bucket, storage.Bucket);

        var health = await Host.Services.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Healthy, health.Entries[ResourceNames.ObjectStore].Status);
    }

    internal static Dictionary<string, string?> S3Configuration(string bucket) =>
        new() { [$"ConnectionStrings:{ResourceNames.ObjectStore}"] = S3BlobStorageTests.ConnectionString(bucket) };
}

[Trait("Category", "Infrastructure")]
public sealed class PostgresS3PayloadStoreTests : PayloadStoreContract
{
    private readonly string bucket = $"test-{Guid.NewGuid():N}";

    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();

    protected override IReadOnlyDictionary<string, string?> BlobStorageConfiguration => SqliteS3PayloadStoreTests.S3Configuration(bucket);
}

public sealed class ClaimCheckOptionsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        var options = Resolve([]);
        Assert.Equal(TimeSpan.FromDays(7), options.DefaultTimeToLive);
        Assert.Equal(32 * 1024, options.InlineThresholdBytes);
    }

    [Theory]
    [InlineData("ClaimCheck:DefaultTimeToLive", "40.00:00:00")]
    [InlineData("ClaimCheck:InlineThresholdBytes", "0")]
    [InlineData("ClaimCheck:CleanupInterval", "00:00:00")]
    public void Invalid_settings_are_rejected(string key, string value)
    {
        Assert.Throws<OptionsValidationException>(() => Resolve(new() { [key] = value }));
    }

    private static ClaimCheckOptions Resolve(Dictionary<string, string?> configuration)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddPlatformClaimCheck();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<ClaimCheckOptions>>().Value;
    }
}
