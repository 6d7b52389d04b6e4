using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentPlatform.Console.Authentication;

/// <summary>A successful answer of the token endpoint (RFC 6749 §5.1).</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken);

/// <summary>An OAuth error answer (RFC 6749 §5.2), e.g. <c>invalid_grant</c> for a wrong password or a spent refresh token.</summary>
public sealed record TokenError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string? Description);

/// <summary>Either tokens or the authorization server's refusal.</summary>
public sealed record TokenResult(TokenResponse? Token, TokenError? Error)
{
    public bool Succeeded => Token is not null;
}

/// <summary>
/// The control plane's authorization server: the password and refresh_token grants at <c>/auth/token</c> and
/// revocation at <c>/auth/revoke</c>. A refusal (4xx with an OAuth error) is a <see cref="TokenResult"/>; a server
/// that cannot answer (5xx, network, timeout) throws <see cref="HttpRequestException"/>.
/// </summary>
public sealed class PlatformTokenClient(HttpClient http)
{
    public const string TokenPath = "/auth/token";
    public const string RevocationPath = "/auth/revoke";

    public Task<TokenResult> RequestPasswordTokenAsync(string userName, string password, CancellationToken cancellationToken) =>
        RequestAsync([new("grant_type", "password"), new("username", userName), new("password", password)], cancellationToken);

    public Task<TokenResult> RefreshAsync(string refreshToken, CancellationToken cancellationToken) =>
        RequestAsync([new("grant_type", "refresh_token"), new("refresh_token", refreshToken)], cancellationToken);

    /// <summary>Revokes the refresh token's family (RFC 7009); the endpoint answers 200 whatever the token was.</summary>
    public async Task RevokeAsync(string refreshToken, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent([new("token", refreshToken), new("token_type_hint", "refresh_token")]);
        using var response = await http.PostAsync(new Uri(RevocationPath, UriKind.Relative), content, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    private async Task<TokenResult> RequestAsync(KeyValuePair<string, string>[] parameters, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent(parameters);
        using var response = await http.PostAsync(new Uri(TokenPath, UriKind.Relative), content, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            var token = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken)
                ?? throw new HttpRequestException("The token endpoint answered without a body.");
            return new TokenResult(token, null);
        }

        if ((int)response.StatusCode is >= 400 and < 500)
        {
            try
            {
                var error = await response.Content.ReadFromJsonAsync<TokenError>(cancellationToken);
                return new TokenResult(null, error ?? new TokenError("invalid_request", null));
            }
            catch (JsonException)
            {
                return new TokenResult(null, new TokenError("invalid_request", null));
            }
        }

        throw new HttpRequestException($"The token endpoint answered {(int)response.StatusCode}.", null, response.StatusCode);
    }
}
