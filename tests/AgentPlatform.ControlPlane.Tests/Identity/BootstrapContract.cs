using System.Security.Cryptography;
using AgentPlatform.ControlPlane.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>The first start creates tenant <c>default</c> and user <c>admin</c>, once, however many instances start.</summary>
public abstract class BootstrapContract
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract TestDatabase CreateDatabase();

    [Fact]
    public async Task Restarting_the_platform_bootstraps_nothing_again_and_keeps_the_signing_keys()
    {
        await using var database = CreateDatabase();
        var keyEncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string firstKid;
        await using (var first = await RunningPlatform.StartAsync(database, new Dictionary<string, string?> { ["Secrets:KeyEncryptionKey"] = keyEncryptionKey }))
        {
            firstKid = AuthServer.Kid((await first.PasswordAsync("admin", RunningPlatform.AdminPassword)).AccessToken);
        }

        await using var second = await RunningPlatform.StartAsync(database, new Dictionary<string, string?>
        {
            ["Secrets:KeyEncryptionKey"] = keyEncryptionKey,
            ["Identity:BootstrapAdminPassword"] = "A-different-password-for-the-second-start",
        });

        var signIn = await second.PasswordAsync("admin", RunningPlatform.AdminPassword);
        Assert.Equal(firstKid, AuthServer.Kid(signIn.AccessToken));
        Assert.Equal("invalid_grant", (await second.PasswordAsync("admin", "A-different-password-for-the-second-start")).Error);

        await using var scope = second.CreateTenantScope(IdentityBootstrapper.DefaultTenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        Assert.Equal(1, await db.Tenants.CountAsync(Ct));
        Assert.Equal(1, await db.Users.CountAsync(u => u.NormalizedUserName == "ADMIN", Ct));
        Assert.Equal(1, await db.AuditRecords.CountAsync(r => r.Action == "tenant.created", Ct));
        Assert.Equal(1, await db.SigningKeys.CountAsync(Ct));
    }

    [Fact]
    public async Task Instances_starting_together_bootstrap_once_and_a_generated_password_is_logged_once()
    {
        await using var database = CreateDatabase();
        var logs = new CapturedLogs();
        await using var host = await PlatformTestHost.CreateAsync(
            database,
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Services.AddSingleton<IPasswordHasher<UserAccount>, PasswordHasher<UserAccount>>();
                builder.Services.AddOptions<TokenServiceOptions>().BindConfiguration(TokenServiceOptions.SectionName);
                builder.Services.AddSingleton<IdentityBootstrapper>();
            },
            new Dictionary<string, string?> { ["Secrets:KeyEncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) });

        // Separate bootstrappers, as separate instances would have.
        var instances = Enumerable.Range(0, 4)
            .Select(_ => ActivatorUtilities.CreateInstance<IdentityBootstrapper>(host.Services))
            .ToList();
        var created = await Task.WhenAll(instances.Select(instance => instance.BootstrapAsync(Ct)));

        Assert.Single(created, bootstrapped => bootstrapped);
        var warning = Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning);
        var password = (string)warning.State.Single(p => p.Key == "Password").Value!;
        Assert.True(password.Length >= 20);

        await using var scope = host.CreateTenantScope(IdentityBootstrapper.DefaultTenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var admin = await db.Users.SingleAsync(Ct);
        Assert.Equal(["platform-admin", "tenant-admin"], admin.Roles);
        var hasher = host.Services.GetRequiredService<IPasswordHasher<UserAccount>>();
        Assert.NotEqual(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(admin, admin.PasswordHash, password));

        Assert.False(await instances[0].BootstrapAsync(Ct));
        Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning);
    }

    private sealed class CapturedLogs : ILoggerProvider
    {
        public List<(LogLevel Level, IReadOnlyList<KeyValuePair<string, object?>> State)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLogs owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (category == typeof(IdentityBootstrapper).FullName && state is IReadOnlyList<KeyValuePair<string, object?>> values)
                {
                    lock (owner.Entries)
                    {
                        owner.Entries.Add((logLevel, values));
                    }
                }
            }
        }
    }
}

public sealed class SqliteBootstrapTests : BootstrapContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

[Trait("Category", "Infrastructure")]
public sealed class PostgresBootstrapTests : BootstrapContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
