using System.Security.Claims;
using AgentPlatform.Domain.Identity;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.ServiceDefaults.Authentication;

public static class PlatformAuthenticationExtensions
{
    public const string JwksHttpClient = "jwks";

    /// <summary>
    /// Validates the platform's access tokens on every request: RS256 only, <c>typ: at+jwt</c>, issuer,
    /// audience, lifetime, signed by a key from the control plane's JWKS (cached; fetched again on an unknown
    /// <c>kid</c>); a token that passed is remembered for a while (<see cref="CachingTokenHandler"/>). Every endpoint
    /// requires an authenticated caller unless it allows anonymous access, and each
    /// permission in <see cref="Permissions"/> is a policy of the same name.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PlatformAuthenticationOptions>()
            .BindConfiguration(PlatformAuthenticationOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHttpClient(JwksHttpClient);

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<PlatformAuthenticationOptions>, IHttpClientFactory>((options, platform, httpClients) =>
                Configure(options, platform.Value, httpClients));

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPermissionPolicies();
        return builder;
    }

    /// <summary>Requires <paramref name="permission"/> (a constant of <see cref="Permissions"/>).</summary>
    public static TBuilder RequirePermission<TBuilder>(this TBuilder endpoints, string permission) where TBuilder : IEndpointConventionBuilder =>
        endpoints.RequireAuthorization(permission);

    public static string? GetTenantId(this ClaimsPrincipal principal) => principal.FindFirstValue(PlatformClaims.TenantId);

    public static string? GetSubject(this ClaimsPrincipal principal) => principal.FindFirstValue(PlatformClaims.Subject);

    /// <summary>
    /// The user whose budget the caller's model use is charged to: a user's token is the user; an API key answers
    /// to the user who created it and a platform service to the user it acts for (both in <c>key_owner</c>); any
    /// other client is nobody's (null).
    /// </summary>
    public static string? GetChargedUserId(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(PlatformClaims.KeyOwner)
        ?? (principal.FindFirst(PlatformClaims.ApiKeyId) is null && principal.FindFirst(PlatformClaims.ClientId) is null ? principal.GetSubject() : null);

    public static IReadOnlyList<string> GetRoles(this ClaimsPrincipal principal) =>
        principal.FindAll(PlatformClaims.Roles).Select(claim => claim.Value).ToList();

    public static bool HasPermission(this ClaimsPrincipal principal, string permission) =>
        RolePermissions.Grants(principal.FindAll(PlatformClaims.Roles).Select(claim => claim.Value), permission);

    private static void Configure(JwtBearerOptions options, PlatformAuthenticationOptions platform, IHttpClientFactory httpClients)
    {
        // Claims keep their JWT names (sub, tenant_id, roles) instead of being mapped to legacy URIs.
        options.MapInboundClaims = false;
        if (platform.ValidatedTokenCacheDuration > TimeSpan.Zero && platform.ValidatedTokenCacheSize > 0)
        {
            options.TokenHandlers.Clear();
            options.TokenHandlers.Add(new CachingTokenHandler(platform.ValidatedTokenCacheDuration, platform.ValidatedTokenCacheSize, TimeProvider.System));
        }

        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = platform.Issuer,
            ValidAudience = platform.Audience,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            ValidTypes = [PlatformClaims.AccessTokenType],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = platform.ClockSkew,
            NameClaimType = PlatformClaims.Subject,
            RoleClaimType = PlatformClaims.Roles,
        };

        // The control plane, which serves the JWKS itself, replaces this with a manager that reads its keys locally.
        options.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
            platform.JwksUri.ToString(),
            new JwksConfigurationRetriever(platform.Issuer),
            new HttpDocumentRetriever(httpClients.CreateClient(JwksHttpClient)) { RequireHttps = platform.JwksUri.Scheme == Uri.UriSchemeHttps })
        {
            AutomaticRefreshInterval = platform.JwksAutomaticRefreshInterval,
            RefreshInterval = platform.JwksRefreshInterval,
        };
    }

    private static AuthorizationBuilder AddPermissionPolicies(this AuthorizationBuilder authorization)
    {
        foreach (var permission in Permissions.All)
        {
            authorization.AddPolicy(permission, policy => policy
                .RequireAuthenticatedUser()
                .RequireAssertion(context => context.User.HasPermission(permission)));
        }

        return authorization;
    }
}
