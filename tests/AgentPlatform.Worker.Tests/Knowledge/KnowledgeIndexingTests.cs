using System.Security.Cryptography;
using System.Text;
using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Testing;
using AgentPlatform.Worker.Knowledge;
using AgentPlatform.Worker.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Worker.Tests.Knowledge;

/// <summary>
/// The knowledge indexer and search end to end over a real database and real MiniLM embeddings (the model gateway is
/// not the subject): pending documents become embedded chunks, each model call runs in the document's
/// <see cref="ModelCallScope"/>, failures are retried and then recorded, a crashed Worker's document is taken over,
/// several Workers never index a document twice, and search finds the right passage of the right tenant.
/// </summary>
public abstract class KnowledgeIndexingTests : DatabaseTest
{
    private const string Tenant = "acme";
    private const string OtherTenant = "globex";
    private const string Creator = "user-1";
    private const int InlineThreshold = 512;

    private static readonly TextChunkerOptions SmallChunks = new() { TargetTokens = 32, MaxTokens = 48, OverlapTokens = 8 };

    private static readonly string ExpensePolicy = string.Join("\n\n",
        "# Travel and expenses",
        "Employees book flights through the travel portal. Economy class is the default for flights under six hours. Business class needs the approval of a vice president before the booking is made.",
        "Hotel nights are reimbursed up to the city limit published by finance. Breakfast is included in the limit; minibar charges and in-room movies are never reimbursed.",
        "## Submitting a claim",
        "Submit the expense report with every receipt within thirty days of returning from the trip. Reports that arrive later are rejected unless your manager explains the delay.",
        "Finance reviews reports every Friday. Approved claims are reimbursed with the next monthly payroll, and the employee receives an email with the amount.",
        "## Per diem",
        "Instead of meal receipts, employees may claim the per diem of the destination country. The per diem covers lunch and dinner and cannot be combined with meal receipts on the same day.");

    private const string PastaGuide =
        "To cook fresh tagliatelle, bring a large pot of salted water to the boil and cook the pasta for three minutes, then toss it with butter and parmesan.";

    private const string KubernetesGuide =
        "Kubernetes rolls out a deployment by replacing pods gradually; when a readiness probe keeps failing the rollout stops and the old replica set keeps serving.";

    [Fact]
    public async Task Pending_documents_are_chunked_embedded_in_their_tenants_scope_and_found_by_search_with_a_citation()
    {
        var embeddings = new MiniLmEmbeddings();
        var host = await CreateIndexerHostAsync(embeddings, new Dictionary<string, string?> { ["Knowledge:EmbeddingBatchSize"] = "4" });
        var expenses = await AddPendingDocumentAsync(host, Tenant, "Expense policy", ExpensePolicy, source: "https://intranet.example.com/expenses");
        var pasta = await AddPendingDocumentAsync(host, Tenant, "Pasta guide", PastaGuide);
        var kubernetes = await AddPendingDocumentAsync(host, OtherTenant, "Kubernetes guide", KubernetesGuide);

        var expected = new TextChunker(new Infrastructure.Tokens.O200kTokenEstimator()).Split(ExpensePolicy, SmallChunks);
        Assert.True(expected.Count > 4, $"the policy should make several batches of chunks, not {expected.Count}");
        foreach (var (tenantId, id) in new[] { (Tenant, expenses), (Tenant, pasta), (OtherTenant, kubernetes) })
        {
            var document = await WaitForFinalAsync(host, tenantId, id);
            Assert.True(document.Status == KnowledgeDocumentStatuses.Indexed, $"{document.Title}: {document.Status} {document.Error}");
            Assert.Equal(1, document.Attempts);
            Assert.Null(document.Error);
            Assert.Null(document.LeaseOwner);
            Assert.NotNull(document.IndexedAt);
            Assert.Equal(MiniLmEmbeddings.ModelId, document.EmbeddingModel);
        }

        await using (var scope = host.CreateTenantScope(Tenant))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            var stored = await db.KnowledgeDocuments.AsNoTracking().SingleAsync(d => d.Id == expenses, Ct);
            Assert.NotNull(stored.ContentRefId);
            Assert.Equal(expected.Count, stored.ChunkCount);
            var chunks = await db.KnowledgeChunks.AsNoTracking().Where(c => c.DocumentId == expenses).OrderBy(c => c.Ordinal).ToListAsync(Ct);
            Assert.Equal(expected.Select(c => (c.Ordinal, c.Text, c.TokenCount)), chunks.Select(c => (c.Ordinal, c.Text, c.TokenCount)));
            Assert.All(chunks, c => Assert.Equal((384, 384 * sizeof(float), MiniLmEmbeddings.ModelId), (c.Dimensions, c.Embedding.Length, c.EmbeddingModel)));
        }

        // Every indexing call ran as its document's tenant, charged to its creator, with the document as the task.
        var calls = embeddings.Calls.ToList();
        Assert.All(calls, c => Assert.Equal((Creator, KnowledgeIndexer.MainAgentId), (c.ChargedUserId, c.MainAgentId)));
        Assert.Equal((expected.Count + 3) / 4, calls.Count(c => c.TaskId == expenses));
        Assert.All(calls.Where(c => c.TaskId == expenses), c => Assert.True(c.TenantId == Tenant && c.Inputs <= 4));
        Assert.Equal(OtherTenant, Assert.Single(calls, c => c.TaskId == kubernetes).TenantId);

        var search = host.Services.GetRequiredService<KnowledgeSearch>();
        await Assert.ThrowsAsync<InvalidOperationException>(() => search.SearchAsync(Tenant, "anything", 3, Ct));
        var taskId = Guid.CreateVersion7();
        using (ModelCallScope.Begin(Tenant, Creator, taskId, "main-agent@1", "retrieval"))
        {
            var perDiem = await search.SearchAsync(Tenant, "Can I claim a daily meal allowance instead of receipts?", 3, Ct);
            Assert.Equal(3, perDiem.Count);
            var best = perDiem[0];
            Assert.Equal((expenses, "Expense policy", "https://intranet.example.com/expenses"), (best.DocumentId, best.Title, best.Source));
            Assert.Contains("per diem", best.Text, StringComparison.Ordinal);
            Assert.Equal(expected.Single(c => c.Text == best.Text).Ordinal, best.Ordinal);
            Assert.True(perDiem[0].Score >= perDiem[1].Score && perDiem[1].Score >= perDiem[2].Score);

            var cooking = await search.SearchAsync(Tenant, "How long do I boil fresh noodles?", 1, Ct);
            Assert.Equal(("Pasta guide", (string?)null), (cooking[0].Title, cooking[0].Source));

            // The other tenant's Kubernetes guide would be the best match, and is never seen.
            var rollout = await search.SearchAsync(Tenant, "Why did my Kubernetes rollout stop?", 10, Ct);
            Assert.DoesNotContain(rollout, hit => hit.DocumentId == kubernetes);
            Assert.All(rollout, hit => Assert.True(hit.DocumentId == expenses || hit.DocumentId == pasta));

            await Assert.ThrowsAsync<InvalidOperationException>(() => search.SearchAsync(OtherTenant, "Why did my rollout stop?", 1, Ct));
        }

        // The query embeddings were calls of the searching task, not of the indexer.
        Assert.Equal(3, embeddings.Calls.Count(c => c.TaskId == taskId && c.MainAgentId == "main-agent@1" && c.TenantId == Tenant));
        using (ModelCallScope.Begin(OtherTenant, null, Guid.CreateVersion7(), "main-agent@1"))
        {
            var theirs = await search.SearchAsync(OtherTenant, "Why did my rollout stop?", 5, Ct);
            Assert.Equal(kubernetes, Assert.Single(theirs).DocumentId);
        }
    }

    [Fact]
    public async Task A_failing_model_is_retried_and_the_document_fails_with_the_error_after_its_last_attempt()
    {
        var embeddings = new MiniLmEmbeddings { BeforeCall = (_, _) => throw new InvalidOperationException("The model gateway answered 503.") };
        var host = await CreateIndexerHostAsync(embeddings, new Dictionary<string, string?> { ["Knowledge:MaxAttempts"] = "3" });
        var id = await AddPendingDocumentAsync(host, Tenant, "Pasta guide", PastaGuide);

        var document = await WaitForFinalAsync(host, Tenant, id);

        Assert.Equal(KnowledgeDocumentStatuses.Failed, document.Status);
        Assert.Equal(3, document.Attempts);
        Assert.Contains("The model gateway answered 503.", document.Error, StringComparison.Ordinal);
        Assert.Equal(0, document.ChunkCount);
        Assert.Equal(3, embeddings.Calls.Count(c => c.TaskId == id));
        Assert.Equal(0, await CountChunksAsync(host, Tenant, id));
    }

    [Fact]
    public async Task A_transient_failure_is_retried_and_the_next_attempt_indexes_the_document()
    {
        var embeddings = new MiniLmEmbeddings { BeforeCall = (call, _) => call == 1 ? throw new HttpRequestException("connection reset") : Task.CompletedTask };
        var host = await CreateIndexerHostAsync(embeddings);
        var id = await AddPendingDocumentAsync(host, Tenant, "Pasta guide", PastaGuide);

        var document = await WaitForFinalAsync(host, Tenant, id);

        Assert.Equal(KnowledgeDocumentStatuses.Indexed, document.Status);
        Assert.Equal(2, document.Attempts);
        Assert.Null(document.Error);
        Assert.Equal(1, document.ChunkCount);
    }

    [Fact]
    public async Task A_document_whose_text_is_gone_from_the_claim_check_fails_without_retries()
    {
        var embeddings = new MiniLmEmbeddings();
        var host = await CreateIndexerHostAsync(embeddings);
        var id = await InsertDocumentAsync(host, Tenant, d => (d.Content, d.ContentRefId) = (null, "ref_" + new string('0', 32)));

        var document = await WaitForFinalAsync(host, Tenant, id);

        Assert.Equal(KnowledgeDocumentStatuses.Failed, document.Status);
        Assert.Equal(1, document.Attempts);
        Assert.Contains("expired or is gone", document.Error, StringComparison.Ordinal);
        Assert.Empty(embeddings.Calls);
    }

    [Fact]
    public async Task A_crashed_workers_document_is_taken_over_after_its_lease_and_one_that_crashed_every_attempt_fails()
    {
        var expired = DateTime.UtcNow.AddMinutes(-1);
        var embeddings = new MiniLmEmbeddings();
        var setup = await CreateIndexerHostAsync(embeddings, start: false);
        var crashedOnce = await InsertDocumentAsync(setup, Tenant, d => (d.Status, d.LeaseOwner, d.LeaseExpiresAt, d.Attempts) = (KnowledgeDocumentStatuses.Indexing, "dead-worker", expired, 1));
        var crashedAlways = await InsertDocumentAsync(setup, Tenant, d => (d.Status, d.LeaseOwner, d.LeaseExpiresAt, d.Attempts) = (KnowledgeDocumentStatuses.Indexing, "dead-worker", expired, 3));
        var heldElsewhere = await InsertDocumentAsync(setup, Tenant, d => (d.Status, d.LeaseOwner, d.LeaseExpiresAt, d.Attempts) = (KnowledgeDocumentStatuses.Indexing, "live-worker", DateTime.UtcNow.AddMinutes(10), 1));

        var host = await CreateIndexerHostAsync(embeddings, new Dictionary<string, string?> { ["Knowledge:MaxAttempts"] = "3" });
        var taken = await WaitForFinalAsync(host, Tenant, crashedOnce);
        var given = await WaitForFinalAsync(host, Tenant, crashedAlways);

        Assert.Equal((KnowledgeDocumentStatuses.Indexed, 2), (taken.Status, taken.Attempts));
        Assert.Equal((KnowledgeDocumentStatuses.Failed, 3), (given.Status, given.Attempts));
        Assert.Contains("did not finish in 3 attempts", given.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(embeddings.Calls, c => c.TaskId == crashedAlways || c.TaskId == heldElsewhere);
        var untouched = await ReadAsync(host, Tenant, heldElsewhere);
        Assert.Equal((KnowledgeDocumentStatuses.Indexing, "live-worker", 1), (untouched.Status, untouched.LeaseOwner, untouched.Attempts));
    }

    [Fact]
    public async Task Several_workers_share_the_documents_and_index_each_exactly_once()
    {
        var embeddings = new MiniLmEmbeddings();
        var setup = await CreateIndexerHostAsync(embeddings, start: false);
        var ids = new List<Guid>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await AddPendingDocumentAsync(setup, i % 2 == 0 ? Tenant : OtherTenant, $"Note {i}", $"Note {i}: {PastaGuide}"));
        }

        var settings = new Dictionary<string, string?> { ["Knowledge:MaxConcurrentDocuments"] = "2" };
        var hosts = new[] { await CreateIndexerHostAsync(embeddings, settings), await CreateIndexerHostAsync(embeddings, settings), await CreateIndexerHostAsync(embeddings, settings) };
        for (var i = 0; i < ids.Count; i++)
        {
            var document = await WaitForFinalAsync(hosts[i % hosts.Length], i % 2 == 0 ? Tenant : OtherTenant, ids[i]);
            Assert.Equal((KnowledgeDocumentStatuses.Indexed, 1), (document.Status, document.Attempts));
        }

        Assert.All(ids, id => Assert.Single(embeddings.Calls, c => c.TaskId == id));
    }

    [Fact]
    public async Task A_document_deleted_while_it_is_indexed_leaves_nothing_behind_and_the_indexer_goes_on()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var embeddings = new MiniLmEmbeddings
        {
            BeforeCall = async (call, cancellationToken) =>
            {
                if (call == 1)
                {
                    started.SetResult();
                    await release.Task.WaitAsync(cancellationToken);
                }
            },
        };
        var host = await CreateIndexerHostAsync(embeddings);
        var doomed = await AddPendingDocumentAsync(host, Tenant, "Doomed", PastaGuide);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        await using (var scope = host.CreateTenantScope(Tenant))
        {
            await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().KnowledgeDocuments.Where(d => d.Id == doomed).ExecuteDeleteAsync(Ct);
        }

        release.SetResult();
        var next = await AddPendingDocumentAsync(host, Tenant, "Next", KubernetesGuide);
        Assert.Equal(KnowledgeDocumentStatuses.Indexed, (await WaitForFinalAsync(host, Tenant, next)).Status);
        Assert.Equal(0, await CountChunksAsync(host, Tenant, doomed));
        await using (var scope = host.CreateTenantScope(Tenant))
        {
            Assert.False(await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().KnowledgeDocuments.AnyAsync(d => d.Id == doomed, Ct));
        }
    }

    [Fact]
    public async Task A_stopping_worker_hands_its_document_back_without_spending_an_attempt()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var embeddings = new MiniLmEmbeddings
        {
            BeforeCall = async (_, cancellationToken) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            },
        };
        var host = await CreateIndexerHostAsync(embeddings);
        var id = await AddPendingDocumentAsync(host, Tenant, "Pasta guide", PastaGuide);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        await host.DisposeAsync();

        var reader = await CreateIndexerHostAsync(new MiniLmEmbeddings(), start: false);
        var document = await ReadAsync(reader, Tenant, id);
        Assert.Equal((KnowledgeDocumentStatuses.Pending, 0, (string?)null), (document.Status, document.Attempts, document.LeaseOwner));
    }

    private Task<PlatformTestHost> CreateIndexerHostAsync(
        MiniLmEmbeddings embeddings, IReadOnlyDictionary<string, string?>? settings = null, bool start = true) =>
        CreateHostAsync(builder =>
        {
            builder.AddPlatformClaimCheck();
            builder.Services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(embeddings);
            builder.AddKnowledge();
        },
        new Dictionary<string, string?>
        {
            ["ClaimCheck:InlineThresholdBytes"] = InlineThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Knowledge:PollInterval"] = "00:00:00.050",
            ["Knowledge:RetryDelay"] = "00:00:00",
            ["Knowledge:Chunking:TargetTokens"] = SmallChunks.TargetTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Knowledge:Chunking:MaxTokens"] = SmallChunks.MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Knowledge:Chunking:OverlapTokens"] = SmallChunks.OverlapTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }.Concat(settings ?? new Dictionary<string, string?>()).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value),
        start);

    /// <summary>Adds a document as the API does: inline up to the claim-check threshold, by reference above it.</summary>
    private static async Task<Guid> AddPendingDocumentAsync(PlatformTestHost host, string tenantId, string title, string text, string? source = null)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        string? referenceId = null;
        if (bytes.Length > InlineThreshold)
        {
            await using var scope = host.CreateTenantScope(tenantId);
            using var content = new MemoryStream(bytes);
            referenceId = (await scope.ServiceProvider.GetRequiredService<IPayloadStore>().PutAsync(content, "text/markdown", cancellationToken: Ct)).Id;
        }

        return await InsertDocumentAsync(host, tenantId, d =>
        {
            (d.Title, d.Source, d.Size, d.Sha256) = (title, source, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            (d.Content, d.ContentRefId) = referenceId is null ? (text, (string?)null) : ((string?)null, referenceId);
        });
    }

    private static async Task<Guid> InsertDocumentAsync(PlatformTestHost host, string tenantId, Action<KnowledgeDocument> configure)
    {
        await using var scope = host.CreateTenantScope(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var now = DateTime.UtcNow;
        var document = new KnowledgeDocument
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            Title = "Pasta guide",
            ContentType = "text/markdown",
            Size = Encoding.UTF8.GetByteCount(PastaGuide),
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(PastaGuide))),
            Content = PastaGuide,
            Status = KnowledgeDocumentStatuses.Pending,
            CreatedBy = Creator,
            ChargedUserId = Creator,
            CreatedAt = now,
            UpdatedAt = now,
        };
        configure(document);
        db.KnowledgeDocuments.Add(document);
        await db.SaveChangesAsync(Ct);
        return document.Id;
    }

    private static async Task<KnowledgeDocument> ReadAsync(PlatformTestHost host, string tenantId, Guid id)
    {
        await using var scope = host.CreateTenantScope(tenantId);
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().KnowledgeDocuments.AsNoTracking().SingleAsync(d => d.Id == id, Ct);
    }

    private static async Task<int> CountChunksAsync(PlatformTestHost host, string tenantId, Guid id)
    {
        await using var scope = host.CreateTenantScope(tenantId);
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().KnowledgeChunks.CountAsync(c => c.DocumentId == id, Ct);
    }

    private static async Task<KnowledgeDocument> WaitForFinalAsync(PlatformTestHost host, string tenantId, Guid id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var document = await ReadAsync(host, tenantId, id);
            if (document.Status is KnowledgeDocumentStatuses.Indexed or KnowledgeDocumentStatuses.Failed)
            {
                return document;
            }

            Assert.True(DateTime.UtcNow < deadline, $"document {id} is still {document.Status} after 120 s ({document.Error})");
            await Task.Delay(50, Ct);
        }
    }
}

public sealed class SqliteKnowledgeIndexingTests : KnowledgeIndexingTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

[Trait("Category", "Infrastructure")]
public sealed class PostgresKnowledgeIndexingTests : KnowledgeIndexingTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
