using System.Net.Http.Headers;
using System.Text.Json;

namespace AgentPlatform.ControlPlane.Tests.MainChain;

/// <summary>One server-sent event of a task's stream.</summary>
public sealed record TaskStreamEvent(long Id, string Type, JsonElement Data);

/// <summary>Reads <c>GET /api/tasks/{id}/events</c> as a client would: line by line, until the server ends the stream.</summary>
public static class TaskEventsReader
{
    public static async Task<List<TaskStreamEvent>> ReadToEndAsync(HttpClient client, string taskId, long? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/tasks/{taskId}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is { } last)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream);
        var events = new List<TaskStreamEvent>();
        long id = 0;
        string? type = null;
        string? data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (type is not null && data is not null)
                {
                    events.Add(new TaskStreamEvent(id, type, JsonDocument.Parse(data).RootElement.Clone()));
                }

                type = data = null;
            }
            else if (line.StartsWith("id:", StringComparison.Ordinal))
            {
                id = long.Parse(line[3..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                type = line[6..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data = (data is null ? "" : data + "\n") + line[5..].TrimStart();
            }
        }

        return events;
    }
}
