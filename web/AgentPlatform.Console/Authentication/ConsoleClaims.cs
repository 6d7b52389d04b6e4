using System.Security.Claims;
using AgentPlatform.Domain.Identity;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AgentPlatform.Console.Authentication;

/// <summary>The console's signed-in user: the access token's claims plus the key of the server-side session.</summary>
public static class ConsoleClaims
{
    /// <summary>The key of the server-side session that holds the user's tokens.</summary>
    public const string SessionId = "console_session";

    public const string AuthenticationType = "AgentPlatform.Console";

    public static string? GetSessionId(this ClaimsPrincipal principal) => principal.FindFirstValue(SessionId);

    public static string? GetUserName(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(PlatformClaims.Name) ?? principal.FindFirstValue(PlatformClaims.Subject);

    /// <summary>
    /// The user an access token stands for. The token is read, not validated: the console received it straight
    /// from the control plane's token endpoint, and every API it calls validates it anyway. The console only uses
    /// these claims to decide what to show, never what is allowed.
    /// </summary>
    public static ClaimsPrincipal CreatePrincipal(string accessToken, string sessionId)
    {
        var token = new JsonWebToken(accessToken);
        var claims = token.Claims
            .Where(claim => claim.Type is PlatformClaims.Subject or PlatformClaims.TenantId or PlatformClaims.Roles or PlatformClaims.Name)
            .Select(claim => new Claim(claim.Type, claim.Value))
            .Append(new Claim(SessionId, sessionId));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthenticationType, PlatformClaims.Name, PlatformClaims.Roles));
    }
}
