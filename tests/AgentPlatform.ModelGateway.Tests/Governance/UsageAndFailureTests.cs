using AgentPlatform.Domain.Models;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using AgentPlatform.Domain.Counters;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.Testing;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ModelGateway.Tests.Governance;

/// <summary>The usage record and metrics of every call, and what happens when the counters store is down.</summary>
public sealed class UsageAndFailureTests : GovernanceTest
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();

    [Fact]
    public async Task A_completed_call_is_recorded_with_every_audit_field()
    {
        await StartAsync();
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Monthly, 1_000_000);
        using var cancelled = new CancellationTokenSource();

        await using (var lease = await AdmitAsync(Request(streamed: true)))
        {
            // The request is gone (client left): settlement and the record must not depend on its token.
            await cancelled.CancelAsync();
            await lease.CompleteAsync(Result(300, 200, cachedInputTokens: 100), cancelled.Token);
        }

        var usage = Assert.Single(await UsageAsync());
        Assert.Equal(Tenant, usage.TenantId);
        Assert.Equal(Clock.GetUtcNow().UtcDateTime, usage.OccurredAt);
        Assert.Equal(new DateOnly(2026, 11, 26), usage.Day);
        Assert.Equal("subject-1", usage.Subject);
        Assert.Equal("user-1", usage.UserId);
        Assert.Equal("key-1", usage.ApiKeyId);
        Assert.Equal("chat", usage.Operation);
        Assert.Equal("gpt-test", usage.ModelRequested);
        Assert.Equal("gpt-test-2026-01", usage.ModelServed);
        Assert.Equal("primary", usage.Deployment);
        Assert.True(usage.Streamed);
        Assert.False(usage.DryRun);
        Assert.False(usage.Offline);
        Assert.Equal(2, usage.AttemptCount);
        Assert.Equal(300, usage.InputTokens);
        Assert.Equal(200, usage.OutputTokens);
        Assert.Equal(100, usage.CachedInputTokens);
        Assert.Equal(Price.CostMicros(300, 200, 100), usage.CostMicros);
        Assert.Equal(650, usage.CostMicros);
        Assert.Equal(175, usage.LatencyMilliseconds);
        Assert.Equal(ModelOutcomes.Ok, usage.Outcome);
        Assert.Equal(200, usage.StatusCode);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", usage.TraceId);
        Assert.Equal("task-1", usage.TaskId);
        Assert.Equal("main-agent-1", usage.MainAgentId);
        Assert.Equal("sub-agent-1", usage.SubAgentId);

        using var attempts = JsonDocument.Parse(usage.Attempts);
        Assert.Equal(2, attempts.RootElement.GetArrayLength());
        var failed = attempts.RootElement[0];
        Assert.Equal("secondary", failed.GetProperty("deployment").GetString());
        Assert.Equal(ModelOutcomes.RateLimited, failed.GetProperty("outcome").GetString());
        Assert.Equal(429, failed.GetProperty("statusCode").GetInt32());
        Assert.Equal(40, failed.GetProperty("durationMs").GetDouble());
        Assert.Equal("Too many requests", failed.GetProperty("error").GetString());
        Assert.Equal(650, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Monthly));
    }

    [Fact]
    public async Task Completing_twice_settles_and_records_once()
    {
        await StartAsync();
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily, 1_000_000);
        await using var lease = await AdmitAsync(Request());

        await lease.CompleteAsync(Result(100, 100), Ct);
        await lease.CompleteAsync(Result(100, 100), Ct);

        Assert.Single(await UsageAsync());
        Assert.Equal(300, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));
    }

    [Fact]
    public async Task A_batch_that_cannot_be_written_is_logged_and_the_writer_goes_on_with_the_next()
    {
        await StartAsync();
        await SetUsageTableAsync(away: true);
        await using (var lost = await AdmitAsync(Request()))
        {
            await lost.CompleteAsync(Result(10, 10), Ct);
        }

        // Flushed: the batch was attempted (and failed: there is no table to write to).
        await Host.Services.GetRequiredService<ModelUsageRecorder>().FlushAsync(Ct);
        await SetUsageTableAsync(away: false);
        await using (var written = await AdmitAsync(Request()))
        {
            await written.CompleteAsync(Result(20, 20), Ct);
        }

        var record = Assert.Single(await UsageAsync());
        Assert.Equal(20, record.InputTokens);
    }

    [Fact]
    public async Task Many_long_attempts_are_kept_within_the_column()
    {
        var attempts = Enumerable.Range(0, 40)
            .Select(i => new ModelAttempt("route", $"deployment-{i}", "model", ModelOutcomes.Error, 500, TimeSpan.FromSeconds(1), new string('x', 2_000)))
            .ToList();

        var json = ModelUsageRecorder.AttemptsJson(attempts);

        Assert.InRange(json.Length, 1, 8_000);
        using var document = JsonDocument.Parse(json);
        Assert.InRange(document.RootElement.GetArrayLength(), 1, 39);
        Assert.Equal(500, document.RootElement[0].GetProperty("error").GetString()!.Length);
    }

    [Fact]
    public async Task Calls_are_exported_as_metrics_tagged_by_tenant_model_and_outcome()
    {
        var measurements = new ConcurrentBag<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ModelGatewayMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Collect(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Collect(instrument, value, tags));
        listener.Start();

        await StartAsync(new Dictionary<string, string?> { ["ModelGateway:RateLimits:Caller:RequestsPerMinute"] = "1" });
        await using (var lease = await AdmitAsync(Request()))
        {
            await lease.CompleteAsync(Result(300, 200, cachedInputTokens: 100), Ct);
        }

        await RefuseAsync(Request());

        var mine = measurements.Where(m => Equals(m.Tags.GetValueOrDefault(PlatformTags.TenantId), Tenant)).ToList();
        var requests = mine.Where(m => m.Instrument == ModelGatewayMetrics.Requests).ToList();
        Assert.Equal(2, requests.Count);
        Assert.Contains(requests, m => Equals(m.Tags[ModelGatewayMetrics.OutcomeTag], ModelOutcomes.Ok) && Equals(m.Tags[ModelGatewayMetrics.ModelTag], "gpt-test-2026-01"));
        Assert.Contains(requests, m => Equals(m.Tags[ModelGatewayMetrics.OutcomeTag], ModelOutcomes.RateLimited) && Equals(m.Tags[ModelGatewayMetrics.ModelTag], "gpt-test"));
        Assert.Equal(300, mine.Where(m => m.Instrument == ModelGatewayMetrics.Tokens && Equals(m.Tags[ModelGatewayMetrics.TokenTypeTag], "input")).Sum(m => m.Value));
        Assert.Equal(200, mine.Where(m => m.Instrument == ModelGatewayMetrics.Tokens && Equals(m.Tags[ModelGatewayMetrics.TokenTypeTag], "output")).Sum(m => m.Value));
        Assert.Equal(100, mine.Where(m => m.Instrument == ModelGatewayMetrics.Tokens && Equals(m.Tags[ModelGatewayMetrics.TokenTypeTag], "cached")).Sum(m => m.Value));
        Assert.Equal(650, mine.Where(m => m.Instrument == ModelGatewayMetrics.Cost).Sum(m => m.Value));
        Assert.Contains(mine, m => m.Instrument == ModelGatewayMetrics.Duration && m.Value == 0.175);
        // No user, key or task ids on metrics: they belong to the usage records.
        Assert.All(mine, m => Assert.Subset(new HashSet<string> { PlatformTags.TenantId, ModelGatewayMetrics.ModelTag, ModelGatewayMetrics.OutcomeTag, ModelGatewayMetrics.TokenTypeTag }, m.Tags.Keys.ToHashSet()));

        void Collect(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            measurements.Add((instrument.Name, value, copy));
        }
    }

    [Fact]
    public async Task With_the_counters_store_down_rate_limits_fail_open_and_budgets_fail_closed()
    {
        await StartAsync(
            new Dictionary<string, string?> { ["ModelGateway:RateLimits:Caller:RequestsPerMinute"] = "1" },
            builder => builder.Services.AddSingleton<ICounterStore, UnreachableCounterStore>());

        // No budget applies: the calls pass although their rate limit cannot be checked.
        await using (var first = await AdmitAsync(Request()))
        {
            Assert.Empty(first.ResponseHeaders);
            await first.CompleteAsync(Result(10, 10), Ct);
        }

        await using (var second = await AdmitAsync(Request()))
        {
            await second.CompleteAsync(Result(10, 10), Ct);
        }

        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily, 1_000_000);
        Clock.Advance(TimeSpan.FromMinutes(1));

        var refusal = await RefuseAsync(Request());

        Assert.Equal(503, refusal.StatusCode);
        Assert.Equal("server_error", refusal.Type);
        Assert.Equal("budget_unavailable", refusal.Code);
        Assert.Equal(TimeSpan.FromSeconds(5), refusal.RetryAfter);
        var usage = await UsageAsync();
        Assert.Equal(2, usage.Count(u => u.Outcome == ModelOutcomes.Ok));
        Assert.Single(usage, u => u.StatusCode == 503);
    }

    // Renames the usage table away and back, so the writer's inserts fail in between.
    private async Task SetUsageTableAsync(bool away)
    {
        await using var scope = Host.CreateTenantScope(Tenant);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var table = db.Model.FindEntityType(typeof(ModelUsageRecord))!.GetTableName()!;
        var (from, to) = away ? (table, table + "_away") : (table + "_away", table);
#pragma warning disable EF1002 // Table names from the model, not input.
        await db.Database.ExecuteSqlRawAsync($"ALTER TABLE \"{from}\" RENAME TO \"{to}\"", Ct);
#pragma warning restore EF1002
    }
}
