using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;

namespace AgentPlatform.Worker.Tests.Knowledge;

/// <summary>
/// The Microsoft.Extensions.VectorData collection over the relational store, on SQLite and PostgreSQL: records round
/// trip, search ranks real MiniLM embeddings by cosine similarity, filters run in SQL, and one tenant never sees,
/// changes or attaches to another's chunks.
/// </summary>
public abstract class KnowledgeChunkCollectionTests : DatabaseTest
{
    private const string Tenant = "acme";
    private const string OtherTenant = "globex";

    private static readonly string[] Passages =
    [
        "To cook fresh pasta, bring a large pot of salted water to the boil, add the tagliatelle and cook it for three minutes before tossing it with butter and parmesan.",
        "Kubernetes rolls out a new deployment by replacing pods gradually; when a readiness probe keeps failing, the rollout stops and the old replica set keeps serving.",
        "Employees submit travel expense reports with their receipts within thirty days of the trip; finance reimburses approved claims with the next monthly payroll.",
        "Photosynthesis in the leaves of plants turns sunlight, water and carbon dioxide into glucose and oxygen.",
        "The office Wi-Fi password changes every quarter and is published on the IT page of the intranet.",
    ];

    [Fact]
    public async Task Search_ranks_chunks_by_the_cosine_similarity_of_real_embeddings()
    {
        var host = await CreateStoreHostAsync();
        var vectors = await MiniLmEmbeddings.EmbedAsync(Passages, Ct);
        var documentId = await AddDocumentAsync(host, Tenant, "Handbook");
        await using var scope = host.CreateTenantScope(Tenant);
        var collection = Collection(scope);
        await collection.UpsertAsync(Passages.Select((text, i) => Record(documentId, i, text, vectors[i])), Ct);

        var queries = new (string Query, int Expected)[]
        {
            ("How long should homemade noodles boil?", 0),
            ("Why did my pods stop rolling out?", 1),
            ("When do I get my money back for a business trip?", 2),
            ("How do plants make food from light?", 3),
            ("Where do I find the wireless network password?", 4),
        };
        var queryVectors = await MiniLmEmbeddings.EmbedAsync([.. queries.Select(q => q.Query)], Ct);
        for (var q = 0; q < queries.Length; q++)
        {
            var results = await ListAsync(collection.SearchAsync(queryVectors[q], 5, cancellationToken: Ct));

            Assert.Equal(5, results.Count);
            Assert.True(results[0].Record.Ordinal == queries[q].Expected, $"'{queries[q].Query}' found '{results[0].Record.Text}'");
            Assert.Equal(results.Select(r => r.Score), results.Select(r => r.Score).OrderByDescending(s => s));
            Assert.All(results, r => Assert.InRange(r.Score!.Value, -1.0, 1.0001));
            Assert.True(results[0].Score > results[1].Score);
            Assert.Equal(Passages[queries[q].Expected], results[0].Record.Text);
            Assert.True(results[0].Record.Embedding.IsEmpty, "vectors are only returned when asked for");
        }

        // top, skip and a minimum score page through the same ranking.
        var ranking = await ListAsync(collection.SearchAsync(queryVectors[0], 5, cancellationToken: Ct));
        var top2 = await ListAsync(collection.SearchAsync(queryVectors[0], 2, cancellationToken: Ct));
        Assert.Equal(ranking.Take(2).Select(r => r.Record.Id), top2.Select(r => r.Record.Id));
        var skipped = await ListAsync(collection.SearchAsync(queryVectors[0], 2, new VectorSearchOptions<KnowledgeChunkRecord> { Skip = 1 }, Ct));
        Assert.Equal(ranking.Skip(1).Take(2).Select(r => r.Record.Id), skipped.Select(r => r.Record.Id));
        var threshold = (ranking[0].Score!.Value + ranking[1].Score!.Value) / 2;
        var confident = await ListAsync(collection.SearchAsync(queryVectors[0], 5, new VectorSearchOptions<KnowledgeChunkRecord> { ScoreThreshold = threshold }, Ct));
        Assert.Equal(ranking[0].Record.Id, Assert.Single(confident).Record.Id);
        // Search also accepts an array and an Embedding<float>.
        var withEmbedding = await ListAsync(collection.SearchAsync(new Microsoft.Extensions.AI.Embedding<float>(queryVectors[0]), 1, cancellationToken: Ct));
        Assert.Equal(ranking[0].Record.Id, Assert.Single(withEmbedding).Record.Id);
        await Assert.ThrowsAsync<NotSupportedException>(() => ListAsync(collection.SearchAsync("text needs a generator", 1, cancellationToken: Ct)));
    }

    [Fact]
    public async Task Filters_run_on_the_data_properties_and_vectors_of_another_size_are_never_compared()
    {
        var host = await CreateStoreHostAsync();
        var vectors = await MiniLmEmbeddings.EmbedAsync(Passages, Ct);
        var handbook = await AddDocumentAsync(host, Tenant, "Handbook");
        var policies = await AddDocumentAsync(host, Tenant, "Policies");
        await using var scope = host.CreateTenantScope(Tenant);
        var collection = Collection(scope);
        await collection.UpsertAsync([Record(handbook, 0, Passages[0], vectors[0]), Record(handbook, 1, Passages[1], vectors[1])], Ct);
        await collection.UpsertAsync([Record(policies, 0, Passages[2], vectors[2]), Record(policies, 1, Passages[3], vectors[3])], Ct);
        var tiny = Record(policies, 2, "three dimensions", [1f, 0f, 0f], model: "tiny-model");
        await collection.UpsertAsync(tiny, Ct);

        var onlyPolicies = await ListAsync(collection.SearchAsync(vectors[0], 10, new VectorSearchOptions<KnowledgeChunkRecord> { Filter = r => r.DocumentId == policies }, Ct));
        Assert.Equal([2, 3], onlyPolicies.Select(r => Array.IndexOf(Passages, r.Record.Text)).Order());

        var laterChunks = await ListAsync(collection.SearchAsync(vectors[0], 10, new VectorSearchOptions<KnowledgeChunkRecord>
        {
            Filter = r => r.Ordinal >= 1 && r.EmbeddingModel == MiniLmEmbeddings.ModelId && r.Text.Contains("Kubernetes"),
        }, Ct));
        Assert.Equal(Passages[1], Assert.Single(laterChunks).Record.Text);

        var all384 = await ListAsync(collection.SearchAsync(vectors[0], 10, cancellationToken: Ct));
        Assert.Equal(4, all384.Count);
        Assert.DoesNotContain(all384, r => r.Record.Id == tiny.Id);
        var small = await ListAsync(collection.SearchAsync(new ReadOnlyMemory<float>([0.5f, 0.5f, 0f]), 10, cancellationToken: Ct));
        Assert.Equal(tiny.Id, Assert.Single(small).Record.Id);
        Assert.Equal(Math.Sqrt(0.5), small[0].Score!.Value, precision: 5);

        await Assert.ThrowsAsync<NotSupportedException>(() => ListAsync(collection.SearchAsync(vectors[0], 1, new VectorSearchOptions<KnowledgeChunkRecord>
        {
            Filter = r => r.Embedding.Length > 0,
        }, Ct)));
    }

    [Fact]
    public async Task Records_round_trip_through_upsert_get_and_delete()
    {
        var host = await CreateStoreHostAsync();
        var documentId = await AddDocumentAsync(host, Tenant, "Notes");
        await using var scope = host.CreateTenantScope(Tenant);
        var collection = Collection(scope);
        var records = Enumerable.Range(0, 4).Select(i => Record(documentId, i, $"chunk {i}", [i, 1.5f, -2.25f, float.Epsilon])).ToList();
        await collection.UpsertAsync(records, Ct);

        var withoutVector = await collection.GetAsync(records[1].Id, cancellationToken: Ct);
        Assert.NotNull(withoutVector);
        Assert.Equal(("chunk 1", 1, documentId, 7, MiniLmEmbeddings.ModelId), (withoutVector.Text, withoutVector.Ordinal, withoutVector.DocumentId, withoutVector.TokenCount, withoutVector.EmbeddingModel));
        Assert.True(withoutVector.Embedding.IsEmpty);
        var withVector = await collection.GetAsync(records[1].Id, new RecordRetrievalOptions { IncludeVectors = true }, Ct);
        Assert.Equal([1f, 1.5f, -2.25f, float.Epsilon], withVector!.Embedding.ToArray());
        Assert.Null(await collection.GetAsync(Guid.NewGuid(), cancellationToken: Ct));

        // An upsert of an existing id replaces it.
        records[1].Text = "chunk 1, revised";
        records[1].Embedding = new[] { 9f, 9f, 9f, 9f };
        await collection.UpsertAsync(records[1], Ct);
        var revised = await collection.GetAsync(records[1].Id, new RecordRetrievalOptions { IncludeVectors = true }, Ct);
        Assert.Equal("chunk 1, revised", revised!.Text);
        Assert.Equal([9f, 9f, 9f, 9f], revised.Embedding.ToArray());

        var some = await ListAsync(collection.GetAsync([records[3].Id, records[0].Id, Guid.NewGuid()], cancellationToken: Ct));
        Assert.Equal([0, 3], some.Select(r => r.Ordinal));
        var descending = await ListAsync(collection.GetAsync(r => r.DocumentId == documentId, 3, new FilteredRecordRetrievalOptions<KnowledgeChunkRecord>
        {
            OrderBy = order => order.Descending(r => r.Ordinal),
        }, Ct));
        Assert.Equal([3, 2, 1], descending.Select(r => r.Ordinal));

        await collection.DeleteAsync(records[0].Id, Ct);
        await collection.DeleteAsync([records[1].Id, records[2].Id], Ct);
        Assert.Equal([3], (await ListAsync(collection.GetAsync(r => r.DocumentId == documentId, 10, cancellationToken: Ct))).Select(r => r.Ordinal));

        Assert.True(await collection.CollectionExistsAsync(Ct));
        Assert.Equal(KnowledgeChunkCollection.CollectionName, (collection.GetService(typeof(VectorStoreCollectionMetadata)) as VectorStoreCollectionMetadata)?.CollectionName);
        await Assert.ThrowsAsync<NotSupportedException>(() => collection.EnsureCollectionDeletedAsync(Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => collection.UpsertAsync(Record(documentId, 9, "no vector", []), Ct));
    }

    [Fact]
    public async Task A_tenant_never_sees_changes_or_attaches_to_another_tenants_chunks()
    {
        var host = await CreateStoreHostAsync();
        var vectors = await MiniLmEmbeddings.EmbedAsync(Passages, Ct);
        var ours = await AddDocumentAsync(host, Tenant, "Ours");
        var theirs = await AddDocumentAsync(host, OtherTenant, "Theirs");
        KnowledgeChunkRecord theirChunk;
        await using (var scope = host.CreateTenantScope(OtherTenant))
        {
            // Their chunks are the best possible match for every query below.
            var collection = Collection(scope);
            var records = Passages.Select((text, i) => Record(theirs, i, text, vectors[i])).ToList();
            await collection.UpsertAsync(records, Ct);
            theirChunk = records[0];
        }

        await using (var scope = host.CreateTenantScope(Tenant))
        {
            var collection = Collection(scope);
            await collection.UpsertAsync(Record(ours, 0, "Our only chunk is about the cafeteria menu.", (await MiniLmEmbeddings.EmbedAsync(["Our only chunk is about the cafeteria menu."], Ct))[0]), Ct);

            foreach (var vector in vectors)
            {
                var hit = Assert.Single(await ListAsync(collection.SearchAsync(vector, 10, cancellationToken: Ct)));
                Assert.Equal(ours, hit.Record.DocumentId);
            }

            Assert.Null(await collection.GetAsync(theirChunk.Id, cancellationToken: Ct));
            Assert.Empty(await ListAsync(collection.GetAsync(r => r.DocumentId == theirs, 10, cancellationToken: Ct)));
            await collection.DeleteAsync(theirChunk.Id, Ct);
            await collection.DeleteAsync([theirChunk.Id], Ct);

            // Attaching a chunk to their document (the foreign key alone would allow it) is refused, and so is
            // overwriting their chunk by its id.
            await Assert.ThrowsAsync<VectorStoreException>(() => collection.UpsertAsync(Record(theirs, 99, "planted", vectors[0]), Ct));
            var hijack = Record(ours, 1, "hijacked", vectors[0]);
            hijack.Id = theirChunk.Id;
            await Assert.ThrowsAsync<DbUpdateException>(() => collection.UpsertAsync(hijack, Ct));
        }

        await using (var scope = host.CreateTenantScope(OtherTenant))
        {
            var survivor = await Collection(scope).GetAsync(theirChunk.Id, cancellationToken: Ct);
            Assert.Equal(Passages[0], survivor?.Text);
            Assert.Equal(Passages.Length, await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().KnowledgeChunks.CountAsync(Ct));
        }

        await using (var anonymous = host.CreateAnonymousScope())
        {
            var collection = Collection(anonymous);
            await Assert.ThrowsAsync<TenantAccessException>(() => ListAsync(collection.SearchAsync(vectors[0], 1, cancellationToken: Ct)));
            await Assert.ThrowsAsync<TenantAccessException>(() => collection.GetAsync(theirChunk.Id, cancellationToken: Ct));
        }

        // Deleting a document deletes its chunks (the foreign key cascades).
        await using (var scope = host.CreateTenantScope(OtherTenant))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            db.KnowledgeDocuments.Remove(await db.KnowledgeDocuments.SingleAsync(d => d.Id == theirs, Ct));
            await db.SaveChangesAsync(Ct);
            Assert.Equal(0, await db.KnowledgeChunks.CountAsync(Ct));
        }
    }

    private Task<PlatformTestHost> CreateStoreHostAsync() => CreateHostAsync(builder => builder.AddKnowledgeStore());

    private static KnowledgeChunkCollection Collection(AsyncServiceScope scope) => scope.ServiceProvider.GetRequiredService<KnowledgeChunkCollection>();

    private static KnowledgeChunkRecord Record(Guid documentId, int ordinal, string text, float[] vector, string model = MiniLmEmbeddings.ModelId) => new()
    {
        Id = Guid.CreateVersion7(),
        DocumentId = documentId,
        Ordinal = ordinal,
        Text = text,
        TokenCount = 7,
        EmbeddingModel = model,
        Embedding = vector,
    };

    internal static async Task<Guid> AddDocumentAsync(PlatformTestHost host, string tenantId, string title)
    {
        await using var scope = host.CreateTenantScope(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var now = DateTime.UtcNow;
        var document = new KnowledgeDocument
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            Title = title,
            ContentType = "text/plain",
            Size = 1,
            Sha256 = new string('0', 64),
            Content = "x",
            Status = KnowledgeDocumentStatuses.Indexed,
            CreatedBy = "user-1",
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.KnowledgeDocuments.Add(document);
        await db.SaveChangesAsync(Ct);
        return document.Id;
    }

    internal static async Task<List<T>> ListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}

public sealed class SqliteKnowledgeChunkCollectionTests : KnowledgeChunkCollectionTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

[Trait("Category", "Infrastructure")]
public sealed class PostgresKnowledgeChunkCollectionTests : KnowledgeChunkCollectionTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
