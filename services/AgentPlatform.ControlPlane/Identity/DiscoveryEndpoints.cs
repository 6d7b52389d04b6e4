using System.Text.Json.Serialization;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>Authorization server metadata (RFC 8414), also served where OpenID Connect clients look for it.</summary>
public sealed record AuthorizationServerMetadata(
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("jwks_uri")] string JwksUri,
    [property: JsonPropertyName("token_endpoint")] string TokenEndpoint,
    [property: JsonPropertyName("revocation_endpoint")] string RevocationEndpoint,
    [property: JsonPropertyName("grant_types_supported")] IReadOnlyList<string> GrantTypesSupported,
    [property: JsonPropertyName("token_endpoint_auth_methods_supported")] IReadOnlyList<string> TokenEndpointAuthMethodsSupported,
    [property: JsonPropertyName("revocation_endpoint_auth_methods_supported")] IReadOnlyList<string> RevocationEndpointAuthMethodsSupported,
    [property: JsonPropertyName("response_types_supported")] IReadOnlyList<string> ResponseTypesSupported,
    [property: JsonPropertyName("subject_types_supported")] IReadOnlyList<string> SubjectTypesSupported,
    [property: JsonPropertyName("id_token_signing_alg_values_supported")] IReadOnlyList<string> IdTokenSigningAlgValuesSupported);

/// <summary>
/// <c>/.well-known/jwks.json</c> and the metadata documents. Every URL in them is public (built from
/// <c>Authentication:Issuer</c>, the gateway's address), so a client outside the cluster can follow them.
/// Anonymous and cacheable for a short while.
/// </summary>
public static class DiscoveryEndpoints
{
    public const string JwksPath = "/.well-known/jwks.json";

    private const string MetadataCacheControl = "public, max-age=300";

    // Well below the publish lead time of new keys, so a cached JWKS never lacks a key that signs.
    private const string JwksCacheControl = "public, max-age=60";

    public static IEndpointRouteBuilder MapDiscoveryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var wellKnown = endpoints.MapGroup("/.well-known").WithTags("Authorization server").AllowAnonymous();
        wellKnown.MapGet("/jwks.json", JwksAsync).Produces<object>(contentType: "application/json");
        wellKnown.MapGet("/openid-configuration", Metadata);
        wellKnown.MapGet("/oauth-authorization-server", Metadata);
        return endpoints;
    }

    public static async Task<IResult> JwksAsync(HttpContext context, SigningKeyRing ring, CancellationToken cancellationToken)
    {
        var jwks = await ring.GetJwksAsync(cancellationToken);
        context.Response.Headers.CacheControl = JwksCacheControl;
        return TypedResults.Text(jwks, "application/json");
    }

    public static Ok<AuthorizationServerMetadata> Metadata(HttpContext context, IOptions<PlatformAuthenticationOptions> authentication)
    {
        var issuer = authentication.Value.Issuer;
        var root = issuer.TrimEnd('/');
        context.Response.Headers.CacheControl = MetadataCacheControl;
        return TypedResults.Ok(new AuthorizationServerMetadata(
            issuer,
            root + JwksPath,
            root + TokenEndpoints.TokenPath,
            root + TokenEndpoints.RevocationPath,
            GrantTypes.Supported,
            ["client_secret_basic", "client_secret_post", "none"],
            ["none"],
            // No authorization endpoint: no browser redirect flows.
            [],
            ["public"],
            [SecurityAlgorithms.RsaSha256]));
    }
}
