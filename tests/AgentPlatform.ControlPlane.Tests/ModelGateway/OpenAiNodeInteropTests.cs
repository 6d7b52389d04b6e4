using System.Diagnostics;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Testing;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

/// <summary>
/// The acceptance check from outside .NET: the official <c>openai</c> Node client, given the platform's
/// <c>/v1</c> and an API key, chats (plain and streamed), lists models, embeds, and sees an OpenAI-shaped 404
/// for an unknown model: against the offline <c>default</c> routes (translated answers, no provider needed) and
/// against a route served by an OpenAI-format upstream (plain answers relayed as they came, ADR 10).
/// </summary>
public sealed class OpenAiNodeInteropTests(SqlitePlatformFixture fixture, ChatFixture upstreamFixture)
    : IClassFixture<SqlitePlatformFixture>, IClassFixture<ChatFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_official_openai_node_client_works_against_v1_on_the_offline_default_routes()
    {
        using var summary = await RunNodeClientAsync(fixture, "default");
        var root = summary.RootElement;
        Assert.Equal("true", root.GetProperty("chat").GetProperty("offline").GetString());
        Assert.Equal("agentplatform-offline", root.GetProperty("chat").GetProperty("system_fingerprint").GetString());
        Assert.Equal(root.GetProperty("chat").GetProperty("content").GetString(), root.GetProperty("stream").GetProperty("content").GetString());
        Assert.Contains("default", root.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(2, root.GetProperty("embeddings").GetProperty("count").GetInt32());
        var unknown = root.GetProperty("unknown");
        Assert.Equal(404, unknown.GetProperty("status").GetInt32());
        Assert.Equal("model_not_found", unknown.GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_official_openai_node_client_works_against_a_route_whose_plain_answers_are_relayed()
    {
        using var summary = await RunNodeClientAsync(upstreamFixture, "chat-basic");
        var root = summary.RootElement;
        Assert.Equal("Scripted reply to: Say hello to the interop test.", root.GetProperty("chat").GetProperty("content").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("chat").GetProperty("offline").ValueKind);
        Assert.Equal(root.GetProperty("chat").GetProperty("content").GetString(), root.GetProperty("stream").GetProperty("content").GetString());
        Assert.Contains("chat-basic", root.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("model_not_found", root.GetProperty("unknown").GetProperty("code").GetString());
    }

    /// <summary>Runs the Node client against the platform's <c>/v1</c> with a new API key; its JSON summary.</summary>
    private static async Task<JsonDocument> RunNodeClientAsync(PlatformFixture platformFixture, string model)
    {
        var platform = await platformFixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var key = await admin.CreateApiKeyAsync(Roles.Developer);

        var (exitCode, output, error) = await RunNodeAsync(new Uri(platform.GatewayAddress, "/v1").ToString(), key, model);

        Assert.True(exitCode == 0, $"The openai client failed against /v1: {error}");
        return JsonDocument.Parse(output);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunNodeAsync(string baseUrl, string apiKey, string model)
    {
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { "openai-client.mjs", baseUrl, apiKey, model },
            WorkingDirectory = TestInfrastructure.NodeInterop,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await output, await error);
    }
}
