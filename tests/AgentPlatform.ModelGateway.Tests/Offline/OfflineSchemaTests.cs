using AgentPlatform.Infrastructure.Tokens;
using System.Text.Json;
using AgentPlatform.ModelGateway.Providers.Offline;
using Microsoft.Extensions.AI;

namespace AgentPlatform.ModelGateway.Tests.Offline;

public sealed class OfflineSchemaTests : IDisposable
{
    private readonly OfflineChatClient client = new("offline-small", new O200kTokenEstimator());

    public void Dispose() => client.Dispose();

    public static TheoryData<string, string> Schemas => new()
    {
        { "flat", """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"ok":{"type":"boolean"},"ratio":{"type":"number"}},"required":["name","age","ok","ratio"],"additionalProperties":false}""" },
        { "bounds", """{"type":"object","properties":{"n":{"type":"integer","minimum":10,"maximum":12},"x":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1},"m":{"type":"integer","multipleOf":7,"minimum":20},"s":{"type":"string","minLength":40,"maxLength":45},"t":{"type":"string","maxLength":3}},"required":["n","x","m","s","t"],"additionalProperties":false}""" },
        { "enum-const", """{"type":"object","properties":{"color":{"enum":["red","green","blue"]},"kind":{"const":"fixed"},"level":{"type":"integer","enum":[1,2,3]}},"required":["color","kind","level"]}""" },
        { "nested-arrays", """{"type":"object","properties":{"items":{"type":"array","minItems":3,"maxItems":5,"uniqueItems":true,"items":{"type":"object","properties":{"id":{"type":"string"},"tags":{"type":"array","items":{"type":"string"},"maxItems":0}},"required":["id","tags"],"additionalProperties":false}}},"required":["items"],"additionalProperties":false}""" },
        { "refs", """{"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["value"]},"point":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}},"required":["x","y"],"additionalProperties":false}},"type":"object","properties":{"root":{"$ref":"#/$defs/node"},"at":{"$ref":"#/$defs/point"}},"required":["root","at"]}""" },
        { "definitions-draft7", """{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"id":{"type":"string","minLength":5}},"type":"object","properties":{"id":{"$ref":"#/definitions/id"}},"required":["id"]}""" },
        { "any-one-of", """{"type":"object","properties":{"v":{"anyOf":[{"type":"integer","minimum":5},{"type":"string"}]},"w":{"oneOf":[{"type":"string","maxLength":4},{"type":"array","items":{"type":"integer"}}]},"n":{"type":["string","null"]},"z":{"anyOf":[{"type":"null"},{"type":"number"}]}},"required":["v","w","n","z"],"additionalProperties":false}""" },
        { "all-of", """{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"properties":{"b":{"type":"integer","minimum":3}},"required":["b"]}]}""" },
        { "formats", """{"type":"object","properties":{"when":{"type":"string","format":"date-time"},"day":{"type":"string","format":"date"},"mail":{"type":"string","format":"email"},"link":{"type":"string","format":"uri"},"key":{"type":"string","format":"uuid"}},"required":["when","day","mail","link","key"]}""" },
        { "tuple", """{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false,"minItems":2}""" },
        { "top-level-array", """{"type":"array","items":{"type":"number","minimum":-3,"maximum":-1},"minItems":2}""" },
        { "untyped", """{"properties":{"free":{},"anything":true},"required":["free","anything","undeclared"]}""" },
    };

    [Theory]
    [MemberData(nameof(Schemas))]
    public async Task Output_validates_against_the_schema(string name, string schema)
    {
        var response = await client.GetResponseAsync("Describe something.", Options(schema, name), cancellationToken: TestContext.Current.CancellationToken);

        SchemaAssert.Valid(schema, response.Text);
    }

    [Theory]
    [MemberData(nameof(Schemas))]
    public async Task Output_is_deterministic(string name, string schema)
    {
        var first = await client.GetResponseAsync("Describe something.", Options(schema, name), cancellationToken: TestContext.Current.CancellationToken);
        var second = await client.GetResponseAsync("Describe something.", Options(schema, name), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(first.Text, second.Text);
        Assert.Equal(first.ResponseId, second.ResponseId);
    }

    [Fact]
    public async Task Json_object_without_schema_is_an_object()
    {
        var response = await client.GetResponseAsync("Say hi.", new ChatOptions { ResponseFormat = ChatResponseFormat.Json }, cancellationToken: TestContext.Current.CancellationToken);

        using var json = JsonDocument.Parse(response.Text);
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        Assert.StartsWith("[offline]", json.RootElement.GetProperty("answer").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_schema_answers_carry_the_offline_text()
    {
        const string schema = """{"type":"object","properties":{"response":{"type":"string"}},"required":["response"],"additionalProperties":false}""";

        var response = await client.GetResponseAsync("What is the capital of France?", Options(schema, "reply"), cancellationToken: TestContext.Current.CancellationToken);

        var json = SchemaAssert.Valid(schema, response.Text);
        Assert.StartsWith("[offline]", json.GetProperty("response").GetString(), StringComparison.Ordinal);
        Assert.Contains("capital of France", json.GetProperty("response").GetString(), StringComparison.Ordinal);
    }

    internal static ChatOptions Options(string schema, string name) => new()
    {
        ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonDocument.Parse(schema).RootElement.Clone(), name),
    };
}
