using System.Reflection;
using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Tasks;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.Infrastructure.Persistence;

/// <summary>
/// The platform's relational store. Every tenant-owned entity (<see cref="ITenantOwned"/>) gets a global
/// query filter on the current tenant, and saving checks that a unit of work only writes its own tenant's
/// rows. One derived context per provider carries that provider's migrations.
/// </summary>
public abstract class AgentPlatformDbContext(DbContextOptions options, ITenantContext tenantContext) : DbContext(options)
{
    /// <summary>Name of the tenant query filter, for the rare query that must see every tenant.</summary>
    public const string TenantFilter = "tenant";

    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    public DbSet<DeadLetter> DeadLetters => Set<DeadLetter>();

    public DbSet<PayloadBlob> PayloadBlobs => Set<PayloadBlob>();

    public DbSet<PayloadRecord> PayloadRecords => Set<PayloadRecord>();

    public DbSet<DistributedLease> DistributedLeases => Set<DistributedLease>();

    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<UserAccount> Users => Set<UserAccount>();

    public DbSet<OAuthClient> OAuthClients => Set<OAuthClient>();

    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();

    public DbSet<AuditRecord> AuditRecords => Set<AuditRecord>();

    public DbSet<AuditChainHead> AuditChainHeads => Set<AuditChainHead>();

    public DbSet<ModelRoute> ModelRoutes => Set<ModelRoute>();

    public DbSet<ModelDeployment> ModelDeployments => Set<ModelDeployment>();

    public DbSet<ProviderCredential> ProviderCredentials => Set<ProviderCredential>();

    public DbSet<ModelBudget> ModelBudgets => Set<ModelBudget>();

    public DbSet<ModelUsageRecord> ModelUsage => Set<ModelUsageRecord>();

    public DbSet<AgentTask> Tasks => Set<AgentTask>();

    public DbSet<TaskStep> TaskSteps => Set<TaskStep>();

    public DbSet<TaskEvent> TaskEvents => Set<TaskEvent>();

    public DbSet<KnowledgeDocument> KnowledgeDocuments => Set<KnowledgeDocument>();

    public DbSet<KnowledgeChunk> KnowledgeChunks => Set<KnowledgeChunk>();

    public ITenantContext TenantContext => tenantContext;

    // Read by the query filters for each query, so one model serves every tenant.
    private string? CurrentTenantId => tenantContext.TenantId;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AgentPlatformDbContext).Assembly);

        var applyTenantFilter = typeof(AgentPlatformDbContext).GetMethod(nameof(ApplyTenantFilter), BindingFlags.NonPublic | BindingFlags.Instance)!;
        foreach (var entityType in modelBuilder.Model.GetEntityTypes().Where(t => typeof(ITenantOwned).IsAssignableFrom(t.ClrType)))
        {
            applyTenantFilter.MakeGenericMethod(entityType.ClrType).Invoke(this, [modelBuilder]);
        }
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        EnforceTenancy();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        EnforceTenancy();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    private void ApplyTenantFilter<TEntity>(ModelBuilder modelBuilder) where TEntity : class, ITenantOwned
    {
        var entity = modelBuilder.Entity<TEntity>();
        entity.Property(e => e.TenantId).HasMaxLength(Domain.Tenancy.TenantId.MaxLength).IsRequired();
        entity.HasQueryFilter(TenantFilter, e => e.TenantId == CurrentTenantId);
    }

    private void EnforceTenancy()
    {
        var current = tenantContext.TenantId;
        foreach (var entry in ChangeTracker.Entries<ITenantOwned>())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified or EntityState.Deleted))
            {
                continue;
            }

            if (entry.State == EntityState.Added && string.IsNullOrEmpty(entry.Entity.TenantId) && current is not null)
            {
                entry.Entity.TenantId = current;
            }

            var owner = entry.Entity.TenantId;
            if (entry.State == EntityState.Modified && entry.Property(e => e.TenantId).OriginalValue != owner)
            {
                throw new TenantAccessException($"{entry.Metadata.ClrType.Name}: the tenant of a row cannot change.");
            }

            if (current is not null)
            {
                if (owner != current)
                {
                    throw new TenantAccessException($"{entry.Metadata.ClrType.Name}: tenant '{current}' cannot write a row of tenant '{owner}'.");
                }
            }
            else if (!tenantContext.IsSystem)
            {
                throw new TenantAccessException($"{entry.Metadata.ClrType.Name}: tenant-owned data can only be written for a tenant.");
            }
            else if (!Domain.Tenancy.TenantId.IsValid(owner))
            {
                throw new TenantAccessException($"{entry.Metadata.ClrType.Name}: system work must state a valid tenant id, not '{owner}'.");
            }
        }
    }
}
