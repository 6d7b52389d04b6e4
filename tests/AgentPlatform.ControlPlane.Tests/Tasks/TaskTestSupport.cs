using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ControlPlane.Tests.Tasks;

/// <summary>
/// The platform for the tasks suites: event streams poll quickly and send their keep-alive after a second, so
/// the tests wait on conditions for fractions of a second instead of the production defaults.
/// </summary>
public abstract class TasksPlatformFixture : PlatformFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Tasks:EventPollInterval"] = "00:00:00.050",
        ["Tasks:EventHeartbeatInterval"] = "00:00:01",
    };
}

public sealed class SqliteTasksFixture : TasksPlatformFixture
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

public sealed class PostgresTasksFixture : TasksPlatformFixture
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}

internal static class TaskClient
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<HttpResponseMessage> SubmitAsync(this HttpClient client, object body, string? idempotencyKey = null) =>
        await client.SubmitRawAsync(JsonSerializer.Serialize(body), idempotencyKey);

    public static async Task<HttpResponseMessage> SubmitRawAsync(this HttpClient client, string json, string? idempotencyKey = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tasks") { Content = new StringContent(json, Encoding.UTF8, contentType) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request, Ct);
    }

    /// <summary>Submits a task that must be accepted and returns its summary.</summary>
    public static async Task<JsonElement> SubmitTaskAsync(this HttpClient client, object body, string? idempotencyKey = null)
    {
        using var response = await client.SubmitAsync(body, idempotencyKey);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        return await response.ReadJsonAsync();
    }

    public static Guid TaskId(this JsonElement task) => task.GetProperty("task_id").GetGuid();

    public static async Task<JsonElement> GetTaskAsync(this HttpClient client, Guid taskId)
    {
        using var response = await client.GetAsync(new Uri($"/api/tasks/{taskId}", UriKind.Relative), Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        return await response.ReadJsonAsync();
    }

    public static async Task<HttpResponseMessage> CancelAsync(this HttpClient client, Guid taskId) =>
        await client.PostAsync(new Uri($"/api/tasks/{taskId}/cancel", UriKind.Relative), content: null, Ct);

    public static async Task<string> SubjectAsync(this HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/me", Ct)).GetProperty("subject").GetString()!;

    /// <summary>Creates a tenant with its own admin and returns that admin's access token.</summary>
    public static async Task<string> CreateTenantAdminAsync(this RunningPlatform platform, HttpClient platformAdmin)
    {
        var tenantId = $"tasks-{Guid.NewGuid():N}"[..20];
        var adminName = $"tasks-admin-{Guid.NewGuid():N}"[..30];
        using var created = await platformAdmin.PostAsJsonAsync("/api/tenants", new { id = tenantId, displayName = "Other", adminUserName = adminName, adminPassword = AuthServer.Password }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return await platform.SignInAsync(adminName, AuthServer.Password);
    }

    /// <summary>Runs <paramref name="work"/> on the control plane's database, acting for tenant <c>default</c>.</summary>
    public static async Task<T> WithDatabaseAsync<T>(this RunningPlatform platform, Func<AgentPlatformDbContext, Task<T>> work, string tenantId = "default")
    {
        await using var scope = platform.CreateTenantScope(tenantId);
        return await work(scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>());
    }

    /// <summary>Records an event of the task as a runner would, and returns its id.</summary>
    public static Task<long> AppendEventAsync(this RunningPlatform platform, Guid taskId, string type, string? key = null, object? data = null) =>
        platform.WithDatabaseAsync(async db =>
        {
            var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, Ct);
            key ??= type;
            Assert.True(await TaskEventLog.AppendAsync(db, task, type, key, data ?? new { step = key }, Ct));
            await db.SaveChangesAsync(Ct);
            return await db.TaskEvents.Where(e => e.TaskId == taskId && e.Key == key).Select(e => e.Id).SingleAsync(Ct);
        });

    /// <summary>Moves the task to <paramref name="status"/> as its runner would.</summary>
    public static Task SetStatusAsync(this RunningPlatform platform, Guid taskId, string status) =>
        platform.WithDatabaseAsync(db => db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(set => set
            .SetProperty(t => t.Status, status)
            .SetProperty(t => t.StartedAt, t => t.StartedAt ?? t.CreatedAt), Ct));
}

/// <summary>One Server-Sent Events record: an event, or a comment line.</summary>
public sealed record SseRecord(string? Id, string? Event, string? Data, string? Comment);

/// <summary>Reads Server-Sent Events off a response as they arrive, each read bounded by a timeout.</summary>
public sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader reader = new(stream, Encoding.UTF8);

    /// <summary>The next event or comment, or null when the server ended the stream.</summary>
    public async Task<SseRecord?> ReadAsync(TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        string? id = null, type = null, comment = null;
        List<string> data = [];
        try
        {
            while (true)
            {
                var line = await reader.ReadLineAsync(deadline.Token);
                if (line is null)
                {
                    return null;
                }

                if (line.Length == 0)
                {
                    if (id is not null || type is not null || data.Count > 0 || comment is not null)
                    {
                        return new SseRecord(id, type, data.Count > 0 ? string.Join('\n', data) : null, comment);
                    }

                    continue;
                }

                if (line.StartsWith(':'))
                {
                    comment = line[1..].Trim();
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var (field, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..].TrimStart(' '));
                switch (field)
                {
                    case "id":
                        id = value;
                        break;
                    case "event":
                        type = value;
                        break;
                    case "data":
                        data.Add(value);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"The event stream sent nothing within {timeout}.");
            throw;
        }
    }

    /// <summary>The next event, skipping comments; it must come within <paramref name="timeout"/>.</summary>
    public async Task<SseRecord> ReadEventAsync(TimeSpan timeout)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            var remaining = timeout - elapsed.Elapsed;
            Assert.True(remaining > TimeSpan.Zero, $"The event stream sent no event within {timeout}.");
            var record = await ReadAsync(remaining);
            Assert.True(record is not null, "The event stream ended before the expected event.");
            if (record.Event is not null)
            {
                return record;
            }
        }
    }

    /// <summary>Everything up to the end of the stream, which must come within <paramref name="timeout"/>.</summary>
    public async Task<List<SseRecord>> ReadToEndAsync(TimeSpan timeout)
    {
        var records = new List<SseRecord>();
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            var remaining = timeout - elapsed.Elapsed;
            Assert.True(remaining > TimeSpan.Zero, $"The event stream did not end within {timeout}; it sent {records.Count} records.");
            if (await ReadAsync(remaining) is not { } record)
            {
                return records;
            }

            records.Add(record);
        }
    }

    public void Dispose() => reader.Dispose();
}
