using AgentPlatform.Gateway.Errors;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace AgentPlatform.Gateway.Authentication;

/// <summary>
/// Lets the platform's JWT bearer scheme accept API keys too: a bearer credential starting with
/// <see cref="ApiKeyExchange.KeyPrefix"/> is exchanged for an access token, which the scheme then validates like
/// any other (signature, issuer, audience, lifetime). Everything after authentication treats both alike. Also
/// answers challenges with an error body (problem details, or OpenAI's shape on <c>/v1</c>) next to the
/// RFC 6750 <c>WWW-Authenticate</c> header.
/// </summary>
public sealed class EdgeBearerEvents(ApiKeyExchange apiKeys) : JwtBearerEvents
{
    public override async Task MessageReceived(MessageReceivedContext context)
    {
        if (!ApiKeyExchange.TryGetApiKey(context.Request, out var apiKey))
        {
            return;
        }

        var result = await apiKeys.ExchangeAsync(apiKey, context.HttpContext.RequestAborted);
        if (result.AccessToken is { } accessToken)
        {
            context.Token = accessToken;
            context.HttpContext.Features.Set(new ExchangedCredential(accessToken));
        }
        else
        {
            context.Fail(new InvalidApiKeyException());
        }
    }

    public override async Task Challenge(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var failed = context.AuthenticateFailure is not null;
        var description = context.AuthenticateFailure switch
        {
            null => null,
            InvalidApiKeyException invalid => invalid.Message,
            _ when !string.IsNullOrEmpty(context.ErrorDescription) => context.ErrorDescription,
            _ => "The access token is invalid.",
        };

        context.Response.Headers.WWWAuthenticate = failed
            ? $"Bearer error=\"invalid_token\", error_description=\"{description!.Replace('"', '\'').Replace('\\', '/')}\""
            : "Bearer";
        await EdgeErrors.WriteAsync(
            context.HttpContext,
            StatusCodes.Status401Unauthorized,
            failed ? description! : "This endpoint requires an access token or API key as a bearer credential.");
    }
}

/// <summary>The access token an API key was exchanged for; the proxy forwards it instead of the key.</summary>
public sealed record ExchangedCredential(string AccessToken);

/// <summary>The control plane rejected the API key: unknown, expired or revoked.</summary>
public sealed class InvalidApiKeyException() : Exception("The API key is unknown, expired or revoked.");
