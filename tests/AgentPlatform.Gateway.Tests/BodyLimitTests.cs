using AgentPlatform.Gateway.Tests.Support;

namespace AgentPlatform.Gateway.Tests;

public sealed class BodyLimitTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_api_accepts_task_inputs_of_several_MiB()
    {
        using var client = fixture.Gateway.CreateClient(fixture.Backend.Tokens.Issue("tenant-a", "user-1"));
        var body = new ByteArrayContent(new byte[3 * 1024 * 1024]);

        using var response = await client.PostAsync(new Uri("/api/tasks", UriKind.Relative), body, Ct);

        Assert.Equal(3 * 1024 * 1024, (await response.ProxiedAsync()).BodyLength);
    }

    [Fact]
    public async Task A_declared_oversized_body_is_refused_at_once_even_before_authentication()
    {
        using var auth = await SendDeclaringAsync("/auth/token", (64 * 1024) + 1);
        var problem = await auth.ProblemAsync(413);
        Assert.Contains("65536", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        auth.TraceId();

        using var models = await SendDeclaringAsync("/v1/chat/completions", (8 * 1024 * 1024) + 1);
        await models.OpenAiErrorAsync(413, "request_too_large");
        models.TraceId();

        using var api = await SendDeclaringAsync("/api/tasks", (16 * 1024 * 1024) + 1);
        await api.ProblemAsync(413);
    }

    [Fact]
    public async Task A_body_without_declared_length_is_cut_off_at_the_limit()
    {
        using var client = fixture.Gateway.CreateClient();
        using var content = new StreamContent(new MemoryStream(new byte[100 * 1024]));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/auth/token") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await client.SendAsync(request, Ct);

        await response.ProblemAsync(413);
        response.TraceId();
    }

    /// <summary>
    /// Posts a body of <paramref name="length"/> bytes without a credential, asking to continue first
    /// (<c>Expect: 100-continue</c>): the body is sent only if the gateway does not answer at once.
    /// </summary>
    private async Task<HttpResponseMessage> SendDeclaringAsync(string path, int length)
    {
        using var client = fixture.Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(new byte[length]) };
        request.Headers.ExpectContinue = true;
        return await client.SendAsync(request, Ct);
    }
}
