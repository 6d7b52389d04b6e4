using System.Collections.Concurrent;
using System.Text.Json;
using AgentPlatform.Worker.Agents.MicroGraph;
using AgentPlatform.Worker.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Agents;

/// <summary>A model answer in the shape asked for, and what getting it took.</summary>
public sealed record StructuredAnswer<T>(T Value, long InputTokens, long OutputTokens, int Repairs);

/// <summary>
/// The Main Agent's structured-output model calls (plan, route, aggregate, judge, summaries): the micro graph with
/// no tools, an output schema derived from the answer type, and the caller's checks beyond the schema. An answer
/// that fails either is sent back to be repaired at most <see cref="AgentModelOptions.MaxRepairs"/> times.
/// </summary>
public sealed class StructuredModelCall(SubAgentGraph graph, IOptionsMonitor<AgentModelOptions> options)
{
    private readonly ConcurrentDictionary<Type, SubAgentSpec> specs = new();

    public async Task<StructuredAnswer<T>> GetAsync<T>(
        string system, string user, Func<T, string?> validate, CancellationToken cancellationToken) where T : class
    {
        var settings = options.CurrentValue;
        var spec = specs.GetOrAdd(typeof(T), _ => SubAgentSpec.For<T>("main-agent", typeof(T).Name, maxToolCalls: 0, settings.MaxRepairs));
        var result = await graph.RunAsync(
            new SubAgentGraphInput(spec, [new ChatMessage(ChatRole.System, system), new ChatMessage(ChatRole.User, user)], [], settings.MaxOutputTokens,
                output => Deserialize<T>(output) is { } value ? validate(value) : "The answer does not have the expected shape."),
            cancellationToken);
        return new StructuredAnswer<T>(Deserialize<T>(result.Output)!, result.InputTokens, result.OutputTokens, result.Repairs);
    }

    private static T? Deserialize<T>(JsonElement output)
    {
        try
        {
            return output.Deserialize<T>(JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
