using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>One answer of the token or revocation endpoint, read completely.</summary>
public sealed record OAuthAnswer(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers, string? ContentType)
{
    public string? Error => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("error", out var error) ? error.GetString() : null;

    public string? ErrorDescription => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("error_description", out var d) ? d.GetString() : null;

    public string AccessToken => Body.GetProperty("access_token").GetString()!;

    public string RefreshToken => Body.GetProperty("refresh_token").GetString()!;

    public bool HasRefreshToken => Body.TryGetProperty("refresh_token", out _);
}

/// <summary>Talks to the platform's authorization server through the gateway, as any OAuth client would.</summary>
public static class AuthServer
{
    public const string Password = "A-long-enough-password-42";
    public const string TokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string ApiKeyTokenType = "urn:agentplatform:params:oauth:token-type:api-key";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Task<OAuthAnswer> TokenAsync(this RunningPlatform platform, IEnumerable<KeyValuePair<string, string>> form, AuthenticationHeaderValue? authorization = null) =>
        platform.PostFormAsync("/auth/token", form, authorization);

    public static Task<OAuthAnswer> PasswordAsync(this RunningPlatform platform, string userName, string password) =>
        platform.TokenAsync(Form(("grant_type", "password"), ("username", userName), ("password", password)));

    public static Task<OAuthAnswer> RefreshAsync(this RunningPlatform platform, string refreshToken) =>
        platform.TokenAsync(Form(("grant_type", "refresh_token"), ("refresh_token", refreshToken)));

    public static Task<OAuthAnswer> ExchangeApiKeyAsync(this RunningPlatform platform, string apiKey) =>
        platform.TokenAsync(Form(("grant_type", TokenExchange), ("subject_token", apiKey), ("subject_token_type", ApiKeyTokenType)));

    public static Task<OAuthAnswer> RevokeAsync(this RunningPlatform platform, string token) =>
        platform.PostFormAsync("/auth/revoke", Form(("token", token)));

    public static async Task<OAuthAnswer> PostFormAsync(
        this RunningPlatform platform, string path, IEnumerable<KeyValuePair<string, string>> form, AuthenticationHeaderValue? authorization = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = authorization;
        return await platform.SendAsync(request);
    }

    public static async Task<OAuthAnswer> SendAsync(this RunningPlatform platform, HttpRequestMessage request)
    {
        using var response = await platform.Gateway.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new OAuthAnswer(response.StatusCode, body, response.Headers, response.Content.Headers.ContentType?.MediaType);
    }

    public static KeyValuePair<string, string>[] Form(params (string Name, string Value)[] parameters) =>
        [.. parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value))];

    public static AuthenticationHeaderValue Basic(string clientId, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));

    /// <summary>Creates a user in tenant <c>default</c> (as the bootstrap admin) and returns its name.</summary>
    public static async Task<string> CreateUserAsync(this RunningPlatform platform, string prefix, params string[] roles)
    {
        var userName = Unique(prefix);
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        using var created = await admin.PostAsJsonAsync("/api/users", new { userName, displayName = prefix, password = Password, roles }, Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        return userName;
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>The token's payload as JSON, to check claim types (roles is an array, times are numbers).</summary>
    public static JsonElement Payload(string jwt) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.Split('.')[1])).RootElement.Clone();

    public static string Kid(string jwt) => new JsonWebToken(jwt).Kid;

    /// <summary>
    /// Validates <paramref name="token"/> the way a client outside the platform would: discovery document, then
    /// its <c>jwks_uri</c>, then signature, algorithm, typ, issuer, audience and lifetime.
    /// </summary>
    public static async Task<TokenValidationResult> ValidateWithDiscoveryAsync(this RunningPlatform platform, string token)
    {
        using var outsider = new HttpClient();
        var discovery = await outsider.GetFromJsonAsync<JsonElement>(new Uri(platform.GatewayAddress, "/.well-known/openid-configuration"), Ct);
        var jwks = new JsonWebKeySet(await outsider.GetStringAsync(new Uri(discovery.GetProperty("jwks_uri").GetString()!), Ct));
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = discovery.GetProperty("issuer").GetString(),
            ValidAudience = PlatformClaims.Audience,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            ValidTypes = [PlatformClaims.AccessTokenType],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
        });
    }

    public static async Task<IReadOnlyList<string>> PublishedKidsAsync(this RunningPlatform platform)
    {
        var jwks = await platform.Gateway.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json", Ct);
        return [.. jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!)];
    }
}
