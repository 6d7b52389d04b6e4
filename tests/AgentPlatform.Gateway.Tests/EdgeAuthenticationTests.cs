using System.Net;
using AgentPlatform.Gateway.Tests.Support;

namespace AgentPlatform.Gateway.Tests;

public sealed class EdgeAuthenticationTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_request_without_credential_is_refused_before_it_reaches_the_backend()
    {
        using var client = fixture.Gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct);

        var problem = await response.ProblemAsync(401);
        Assert.Contains("access token", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).ToString());
        response.TraceId();
    }

    public static TheoryData<string> BadTokens => ["expired", "wrong-issuer", "unknown-signer", "garbage", "tampered"];

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_token_is_refused_as_invalid_token(string kind)
    {
        var tokens = fixture.Backend.Tokens;
        var token = kind switch
        {
            "expired" => tokens.Issue("tenant-a", "user-1", lifetime: TimeSpan.FromMinutes(-5)),
            "wrong-issuer" => tokens.Issue("tenant-a", "user-1", issuer: "http://evil.test"),
            "unknown-signer" => tokens.Issue("tenant-a", "user-1", signedByStranger: true),
            "garbage" => "not-a-jwt",
            _ => Tamper(tokens.Issue("tenant-a", "user-1")),
        };
        using var client = fixture.Gateway.CreateClient(token);

        using var response = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct);

        await response.ProblemAsync(401);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"invalid_token\"", challenge.Parameter, StringComparison.Ordinal);
        response.TraceId();
    }

    [Fact]
    public async Task A_valid_token_passes_through_to_the_backend_unchanged()
    {
        var token = fixture.Backend.Tokens.Issue("tenant-a", "user-1");
        using var client = fixture.Gateway.CreateClient(token);

        using var response = await client.GetAsync(new Uri("/api/tasks?state=running", UriKind.Relative), Ct);

        var echoed = await response.ProxiedAsync();
        Assert.Equal("/api/tasks?state=running", echoed.Path);
        Assert.Equal($"Bearer {token}", echoed.Header("Authorization"));
        response.TraceId();
    }

    [Fact]
    public async Task Model_gateway_errors_are_shaped_like_OpenAI_errors()
    {
        using var anonymous = fixture.Gateway.CreateClient();
        using var missing = await anonymous.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent("{}"), Ct);
        await missing.OpenAiErrorAsync(401, "invalid_api_key");
        Assert.Equal("Bearer", Assert.Single(missing.Headers.WwwAuthenticate).Scheme);
        missing.TraceId();

        using var unknownKey = fixture.Gateway.CreateClient("apk_unknown_openai_shape");
        using var rejected = await unknownKey.GetAsync(new Uri("/v1/models", UriKind.Relative), Ct);
        var error = await rejected.OpenAiErrorAsync(401, "invalid_api_key");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Contains("API key", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/api/version")]
    [InlineData("GET", "/v1/version")]
    [InlineData("POST", "/auth/token")]
    [InlineData("GET", "/.well-known/jwks.json")]
    [InlineData("GET", "/.well-known/openid-configuration")]
    [InlineData("GET", "/openapi/controlplane.json")]
    [InlineData("GET", "/openapi/modelgateway.json")]
    [InlineData("GET", "/")]
    [InlineData("GET", "/agents/overview")]
    [InlineData("GET", "/health")]
    [InlineData("GET", "/alive")]
    [InlineData("GET", "/api-reference")]
    public async Task Public_routes_need_no_credential(string method, string path)
    {
        using var client = fixture.Gateway.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new FormUrlEncodedContent([new("grant_type", "password"), new("username", "someone"), new("password", "x")]);
        }

        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        response.TraceId();
    }

    [Fact]
    public async Task Only_reading_the_version_is_public_under_api()
    {
        using var client = fixture.Gateway.CreateClient();
        using var response = await client.PostAsync(new Uri("/api/version", UriKind.Relative), new StringContent("{}"), Ct);

        await response.ProblemAsync(401);
    }

    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(parts[1]).Replace("tenant-a", "tenant-b", StringComparison.Ordinal);
        return $"{parts[0]}.{Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(payload)}.{parts[2]}";
    }
}
