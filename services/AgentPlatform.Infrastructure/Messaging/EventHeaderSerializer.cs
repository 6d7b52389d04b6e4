using System.Text.Json;

namespace AgentPlatform.Infrastructure.Messaging;

internal static class EventHeaderSerializer
{
    public static string Serialize(IReadOnlyDictionary<string, string> headers) =>
        JsonSerializer.Serialize(headers);

    public static IReadOnlyDictionary<string, string> Deserialize(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
}
