using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// The token endpoint (RFC 6749, RFC 8693) and the revocation endpoint (RFC 7009). Anonymous: the credential in
/// the request is what is checked. Every answer, errors included, is OAuth JSON with <c>Cache-Control: no-store</c>.
/// </summary>
public static class TokenEndpoints
{
    public const string TokenPath = "/auth/token";
    public const string RevocationPath = "/auth/revoke";

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var auth = endpoints.MapGroup("/auth")
            .WithTags("Authorization server")
            .AllowAnonymous()
            .AddEndpointFilter(ServerErrorsAsOAuthErrorsAsync);

        // No Accepts metadata: routing would then turn other content types into a 415 that the fallback policy
        // answers 401 first; TokenRequest answers them invalid_request instead.
        auth.MapPost("/token", TokenAsync)
            .Produces<TokenResponse>()
            .Produces<OAuthError>(StatusCodes.Status400BadRequest)
            .Produces<OAuthError>(StatusCodes.Status401Unauthorized)
            .WithSummary("Issues access tokens: password, client_credentials (tenants' and platform services' clients), refresh_token and token-exchange (API key) grants.");
        auth.MapPost("/revoke", RevokeAsync)
            .Produces(StatusCodes.Status200OK)
            .Produces<OAuthError>(StatusCodes.Status400BadRequest)
            .WithSummary("Revokes a refresh token and its family. Unauthenticated: possession of the token is the authority.");
        return endpoints;
    }

    public static async Task<OAuthResult> TokenAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var (request, error) = await TokenRequest.ReadAsync(context, cancellationToken);
        if (request is null)
        {
            return OAuthResult.Error(error!);
        }

        var services = context.RequestServices;
        var grantType = request["grant_type"];
        using var activity = IdentityTelemetry.ActivitySource.StartActivity("identity.token");
        activity?.SetTag("oauth.grant_type", grantType);
        var result = grantType switch
        {
            null => OAuthResult.Error(OAuthError.InvalidRequest("The 'grant_type' parameter is missing.")),
            GrantTypes.Password => await services.GetRequiredService<PasswordGrant>().HandleAsync(request, cancellationToken),
            GrantTypes.ClientCredentials => await services.GetRequiredService<ClientCredentialsGrant>().HandleAsync(request, cancellationToken),
            GrantTypes.RefreshToken => await services.GetRequiredService<RefreshTokenGrant>().HandleAsync(request, cancellationToken),
            GrantTypes.TokenExchange => await services.GetRequiredService<ApiKeyExchangeGrant>().HandleAsync(request, cancellationToken),
            _ => OAuthResult.Error(OAuthError.UnsupportedGrantType($"Supported grant types: {string.Join(", ", GrantTypes.Supported)}.")),
        };
        activity?.SetTag("oauth.status_code", result.StatusCode);
        return result;
    }

    /// <summary>
    /// RFC 7009: a refresh token revokes its whole family; anything else (an access token, which is stateless and
    /// simply expires, or an unknown value) is answered 200 as well, so the answer reveals nothing.
    /// </summary>
    public static async Task<OAuthResult> RevokeAsync(
        HttpContext context, AgentPlatformDbContext db, TenantContext tenantContext, AuditTrail auditTrail, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var (request, error) = await TokenRequest.ReadAsync(context, cancellationToken);
        if (request is null)
        {
            return OAuthResult.Error(error!);
        }

        var token = request["token"];
        if (token is null)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest("The 'token' parameter is missing."));
        }

        if (!Secrets.IsWellFormed(token, Secrets.RefreshTokenPrefix))
        {
            return OAuthResult.Ok();
        }

        var hash = Secrets.Hash(token);
        var found = await db.RefreshTokens.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter]).AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Select(t => new { t.TenantId, t.FamilyId, t.SubjectType, t.SubjectId })
            .SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return OAuthResult.Ok();
        }

        tenantContext.SetTenant(found.TenantId);
        await OptimisticRetry.RunAsync(db, async () =>
        {
            var now = timeProvider.GetUtcNow().UtcDateTime;
            var revoked = await RefreshTokens.RevokeFamilyAsync(db, found.FamilyId, now, "revoked", cancellationToken);
            if (revoked > 0)
            {
                await auditTrail.SaveChangesAsync(
                    new AuditEntry("refresh-token.revoked", "refresh-token-family", found.FamilyId.ToString())
                    {
                        Actor = new AuditActor(found.SubjectType == RefreshTokens.UserSubject ? AuditActor.User : AuditActor.Client, found.SubjectId),
                        Details = new { revoked },
                    },
                    cancellationToken);
            }

            return revoked;
        }, cancellationToken);
        return OAuthResult.Ok();
    }

    // Unexpected failures are OAuth errors too: clients of these endpoints parse nothing else.
    private static async ValueTask<object?> ServerErrorsAsOAuthErrorsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>()
                .CreateLogger(typeof(TokenEndpoints)).LogError(exception, "The authorization server failed to answer {Path}.", context.HttpContext.Request.Path);
            return OAuthResult.Error(OAuthError.ServerError("The authorization server could not answer; try again."));
        }
    }
}
