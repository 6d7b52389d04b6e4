using System.Text.Json;
using Json.Schema;

namespace AgentPlatform.ModelGateway.Tests.Offline;

internal static class SchemaAssert
{
    /// <summary>Validates <paramref name="json"/> against <paramref name="schema"/> with JsonSchema.Net, formats included.</summary>
    public static JsonElement Valid(string schema, string json)
    {
        // A base URI per call keeps schemas apart in JsonSchema.Net's registry.
        var compiled = JsonSchema.FromText(schema, new BuildOptions(), new Uri($"https://offline.test/{Guid.NewGuid():N}"));
        using var document = JsonDocument.Parse(json);
        var results = compiled.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        var errors = (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
        Assert.True(results.IsValid, $"{json}\n does not match the schema:\n{string.Join("\n", errors)}");
        return document.RootElement.Clone();
    }
}
