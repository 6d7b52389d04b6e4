using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace AgentPlatform.ControlPlane.Identity;

public static class GrantTypes
{
    public const string Password = "password";
    public const string ClientCredentials = "client_credentials";
    public const string RefreshToken = "refresh_token";

    /// <summary>RFC 8693 token exchange: the gateway trades an API key for an access token.</summary>
    public const string TokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";

    public static IReadOnlyList<string> Supported { get; } = [Password, ClientCredentials, RefreshToken, TokenExchange];
}

public static class TokenTypes
{
    /// <summary>The <c>subject_token_type</c> of an API key in a token exchange.</summary>
    public const string ApiKey = "urn:agentplatform:params:oauth:token-type:api-key";

    public const string AccessToken = "urn:ietf:params:oauth:token-type:access_token";
}

/// <summary>A successful token response (RFC 6749 §5.1, RFC 8693 §2.2.1).</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn)
{
    [JsonPropertyName("token_type")]
    public string TokenType { get; init; } = "Bearer";

    [JsonPropertyName("refresh_token")]
    public string? RefreshToken { get; init; }

    [JsonPropertyName("issued_token_type")]
    public string? IssuedTokenType { get; init; }
}

/// <summary>An OAuth error response (RFC 6749 §5.2): never problem+json on the authorization server's endpoints.</summary>
public sealed record OAuthError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string Description)
{
    public static OAuthError InvalidRequest(string description) => new("invalid_request", description);

    public static OAuthError InvalidClient(string description) => new("invalid_client", description);

    public static OAuthError InvalidGrant(string description) => new("invalid_grant", description);

    public static OAuthError UnsupportedGrantType(string description) => new("unsupported_grant_type", description);

    public static OAuthError ServerError(string description) => new("server_error", description);
}

/// <summary>Writes token responses and OAuth errors: JSON, never cached (RFC 6749 §5.1).</summary>
public sealed class OAuthResult : IResult, IStatusCodeHttpResult
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly object? body;
    private readonly bool basicChallenge;

    private OAuthResult(int statusCode, object? body, bool basicChallenge)
    {
        StatusCode = statusCode;
        this.body = body;
        this.basicChallenge = basicChallenge;
    }

    public int? StatusCode { get; }

    public static OAuthResult Token(TokenResponse response) => new(StatusCodes.Status200OK, response, basicChallenge: false);

    /// <summary>An error: 401 for <c>invalid_client</c> (with a Basic challenge when the client used Basic), 500 for <c>server_error</c>, else 400.</summary>
    public static OAuthResult Error(OAuthError error, bool basicChallenge = false) => new(
        error.Error switch
        {
            "invalid_client" => StatusCodes.Status401Unauthorized,
            "server_error" => StatusCodes.Status500InternalServerError,
            _ => StatusCodes.Status400BadRequest,
        },
        error,
        basicChallenge);

    /// <summary>200 without a body (revocation, RFC 7009 §2.2).</summary>
    public static OAuthResult Ok() => new(StatusCodes.Status200OK, null, basicChallenge: false);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode!.Value;
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        if (basicChallenge)
        {
            response.Headers.WWWAuthenticate = "Basic realm=\"agentplatform\", charset=\"UTF-8\"";
        }

        if (body is not null)
        {
            await response.WriteAsJsonAsync(body, body.GetType(), Json, httpContext.RequestAborted);
        }
    }
}

/// <summary>
/// The parameters of a request to the token or revocation endpoint: <c>application/x-www-form-urlencoded</c>,
/// each parameter at most once (RFC 6749 §3.2), small.
/// </summary>
public sealed class TokenRequest
{
    public const int MaxBodyBytes = 16 * 1024;

    private readonly IFormCollection form;

    private TokenRequest(IFormCollection form, StringValues authorization)
    {
        this.form = form;
        Authorization = authorization;
    }

    public StringValues Authorization { get; }

    /// <summary>The parameter's value, or null when absent or empty.</summary>
    public string? this[string name] => form.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value) ? value.ToString() : null;

    public static async Task<(TokenRequest? Request, OAuthError? Error)> ReadAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !string.Equals(contentType.MediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return (null, OAuthError.InvalidRequest("The request must be form-encoded (application/x-www-form-urlencoded)."));
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, OAuthError.InvalidRequest($"The request is larger than {MaxBodyBytes} bytes."));
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = MaxBodyBytes;
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(
                new FormOptions { BufferBodyLengthLimit = MaxBodyBytes, ValueLengthLimit = MaxBodyBytes, KeyLengthLimit = 100, ValueCountLimit = 32 },
                cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidDataException or BadHttpRequestException)
        {
            return (null, OAuthError.InvalidRequest($"The form could not be read: {exception.Message}"));
        }

        if (form.FirstOrDefault(parameter => parameter.Value.Count > 1) is { Key: { } repeated })
        {
            return (null, OAuthError.InvalidRequest($"The parameter '{repeated}' appears more than once."));
        }

        return (new TokenRequest(form, request.Headers.Authorization), null);
    }

    /// <summary>
    /// The client's credentials: HTTP Basic (RFC 6749 §2.3.1, both parts form-urlencoded) or the
    /// <c>client_id</c>/<c>client_secret</c> parameters, never both.
    /// </summary>
    public (string? ClientId, string? ClientSecret, bool UsedBasic, OAuthError? Error) ReadClientCredentials()
    {
        var header = Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return (this["client_id"], this["client_secret"], false, null);
        }

        if (this["client_secret"] is not null)
        {
            return (null, null, true, OAuthError.InvalidRequest("Authenticate the client one way only: HTTP Basic or the client_secret parameter."));
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return (null, null, true, OAuthError.InvalidClient("The Basic credentials are not valid base64."));
        }

        var separator = decoded.IndexOf(':', StringComparison.Ordinal);
        if (separator < 0)
        {
            return (null, null, true, OAuthError.InvalidClient("The Basic credentials have no ':' between client id and secret."));
        }

        var clientId = FormDecode(decoded[..separator]);
        if (this["client_id"] is { } formClientId && formClientId != clientId)
        {
            return (null, null, true, OAuthError.InvalidRequest("The client_id parameter does not match the Basic credentials."));
        }

        return (clientId, FormDecode(decoded[(separator + 1)..]), true, null);
    }

    private static string FormDecode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}
