using System.Diagnostics;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Testing;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

/// <summary>
/// The acceptance check from outside .NET: the official <c>openai</c> Node client, given the platform's
/// <c>/v1</c> and an API key, chats (plain and streamed), lists models, embeds, and sees an OpenAI-shaped 404
/// for an unknown model. Runs against the offline <c>default</c> routes, so it needs no provider.
/// </summary>
public sealed class OpenAiNodeInteropTests(SqlitePlatformFixture fixture) : IClassFixture<SqlitePlatformFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_official_openai_node_client_works_against_v1_on_the_offline_default_routes()
    {
        var folder = TestInfrastructure.NodeInterop;
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var key = await admin.CreateApiKeyAsync(Roles.Developer);

        var (exitCode, output, error) = await RunNodeAsync(folder, new Uri(platform.GatewayAddress, "/v1").ToString(), key);

        Assert.True(exitCode == 0, $"The openai client failed against /v1: {error}");
        using var summary = JsonDocument.Parse(output);
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

    private static async Task<(int ExitCode, string Output, string Error)> RunNodeAsync(string folder, string baseUrl, string apiKey)
    {
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { "openai-client.mjs", baseUrl, apiKey },
            WorkingDirectory = folder,
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
