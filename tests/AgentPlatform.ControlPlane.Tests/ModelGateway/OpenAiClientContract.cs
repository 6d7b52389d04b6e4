using System.ClientModel;
using System.ClientModel.Primitives;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Testing.ModelUpstream;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

/// <summary>The official OpenAI .NET client works against the platform's <c>/v1</c> with an API key as its key.</summary>
public sealed class OpenAiClientContract(ChatFixture fixture) : IClassFixture<ChatFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_official_client_chats_streams_lists_models_embeds_and_sees_a_404_for_an_unknown_model()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var key = new ApiKeyCredential(await admin.CreateApiKeyAsync(Roles.Developer));
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(platform.GatewayAddress, "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        };
        fixture.Upstream.Script("chat-basic-a", UpstreamStep.Reply("Hello from the gateway", promptTokens: 9, completionTokens: 4));

        var chat = new ChatClient("chat-basic", key, options);
        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("hi")], cancellationToken: Ct);
        Assert.Equal("Hello from the gateway", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(9, completion.Usage.InputTokenCount);
        Assert.Equal(4, completion.Usage.OutputTokenCount);

        var streamed = "";
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("stream this please")], cancellationToken: Ct))
        {
            streamed += string.Concat(update.ContentUpdate.Select(part => part.Text));
            usage = update.Usage ?? usage;
        }

        Assert.Equal("Scripted reply to: stream this please", streamed);
        Assert.NotNull(usage);
        Assert.Equal(6, usage.OutputTokenCount);

        OpenAIModelCollection models = await new OpenAIModelClient(key, options).GetModelsAsync(Ct);
        Assert.Contains(models, model => model.Id == "chat-basic");
        Assert.Contains(models, model => model.Id == "default");

        // The client asks for base64 embeddings by default; the gateway must honour encoding_format.
        OpenAIEmbedding embedding = await new EmbeddingClient("emb-basic", key, options).GenerateEmbeddingAsync("embed me", cancellationToken: Ct);
        Assert.Equal(64, embedding.ToFloats().Length);
        OpenAIEmbedding offline = await new EmbeddingClient("text-embedding-default", key, options).GenerateEmbeddingAsync("embed me", cancellationToken: Ct);
        Assert.True(offline.ToFloats().Length > 0);

        var missing = await Assert.ThrowsAsync<ClientResultException>(
            () => new ChatClient("no-such-model", key, options).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Ct));
        Assert.Equal(404, missing.Status);
        Assert.Contains("model_not_found", missing.GetRawResponse()!.Content.ToString(), StringComparison.Ordinal);

        Assert.All(fixture.Upstream.CallsFor("chat-basic-a"), call => Assert.Equal($"Bearer {ModelGatewayFixture.ProviderKey}", call.Authorization));
    }
}
