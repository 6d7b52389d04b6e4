using AgentPlatform.Console.Dashboard;
using System.Text.Json;
using AgentPlatform.Console.Platform;

namespace AgentPlatform.Console.Tests.Dashboard;

/// <summary><c>/api/tasks/stats</c> answers as the control plane writes them (snake_case JSON).</summary>
public static class Statistics
{
    /// <summary>Three hour buckets from 12:00: a busy one, an empty one, and one whose tasks have not ended.</summary>
    public const string ThreeHoursJson = """
        {
          "from": "2026-11-26T12:00:00Z", "to": "2026-11-26T15:00:00Z", "bucket": "hour",
          "totals": { "submitted": 14, "queued": 1, "running": 2, "completed": 9, "failed": 1, "cancelled": 1,
                      "success_rate": 0.8181818, "p50_duration_ms": 1500, "p95_duration_ms": 42000,
                      "usage": { "input_tokens": 12000, "output_tokens": 3456, "total_tokens": 15456, "cost_micros": 1234567 } },
          "buckets": [
            { "start": "2026-11-26T12:00:00Z", "submitted": 11, "queued": 0, "running": 0, "completed": 9, "failed": 1, "cancelled": 1,
              "success_rate": 0.8181818, "p50_duration_ms": 1500, "p95_duration_ms": 42000,
              "usage": { "input_tokens": 12000, "output_tokens": 3456, "total_tokens": 15456, "cost_micros": 1234567 } },
            { "start": "2026-11-26T13:00:00Z", "submitted": 0, "queued": 0, "running": 0, "completed": 0, "failed": 0, "cancelled": 0,
              "success_rate": null, "p50_duration_ms": null, "p95_duration_ms": null,
              "usage": { "input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "cost_micros": 0 } },
            { "start": "2026-11-26T14:00:00Z", "submitted": 3, "queued": 1, "running": 2, "completed": 0, "failed": 0, "cancelled": 0,
              "success_rate": null, "p50_duration_ms": null, "p95_duration_ms": null,
              "usage": { "input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "cost_micros": 0 } }
          ],
          "top_failing_sub_agents": [
            { "sub_agent_id": "retrieval", "runs": 8, "failures": 2, "failure_rate": 0.25 },
            { "sub_agent_id": "analysis", "runs": 10, "failures": 1, "failure_rate": 0.1 }
          ]
        }
        """;

    /// <summary>Seven empty day buckets.</summary>
    public static string EmptyWeekJson()
    {
        var buckets = Enumerable.Range(20, 7).Select(day => $$"""
            { "start": "2026-11-{{day}}T00:00:00Z", "submitted": 0, "queued": 0, "running": 0, "completed": 0, "failed": 0, "cancelled": 0,
              "success_rate": null, "p50_duration_ms": null, "p95_duration_ms": null,
              "usage": { "input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "cost_micros": 0 } }
            """);
        return $$"""
            {
              "from": "2026-11-20T00:00:00Z", "to": "2026-11-27T00:00:00Z", "bucket": "day",
              "totals": { "submitted": 0, "queued": 0, "running": 0, "completed": 0, "failed": 0, "cancelled": 0,
                          "success_rate": null, "p50_duration_ms": null, "p95_duration_ms": null,
                          "usage": { "input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "cost_micros": 0 } },
              "buckets": [{{string.Join(",", buckets)}}],
              "top_failing_sub_agents": []
            }
            """;
    }

    public static TaskStatistics Parse(string json) =>
        JsonSerializer.Deserialize<TaskStatistics>(json, PlatformApi.Json)!;
}
