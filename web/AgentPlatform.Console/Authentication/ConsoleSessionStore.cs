using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Console.Authentication;

/// <summary>
/// The server side of a sign-in. The cookie carries only the session key (the cookie handler's
/// <see cref="ITicketStore"/> contract); the ticket and the session's tokens live here, in
/// <see cref="IDistributedCache"/> (in memory for one replica; a shared cache for several), encrypted with Data
/// Protection so a shared cache never holds a usable token. Tokens are a separate entry from the ticket: the cookie
/// handler rewrites the ticket when it slides the cookie's expiry, and must not write back a refresh token that has
/// rotated meanwhile.
/// </summary>
public sealed class ConsoleSessionStore(IDistributedCache cache, IDataProtectionProvider dataProtection, IOptions<ConsoleOptions> options) : ITicketStore
{
    private const string TicketPrefix = "console:session:ticket:";
    private const string TokensPrefix = "console:session:tokens:";

    private readonly IDataProtector protector = dataProtection.CreateProtector("AgentPlatform.Console.Session.v1");

    /// <summary>A new, unguessable session key for a sign-in.</summary>
    public static string NewSessionId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>The key is the session id the principal already carries (<see cref="ConsoleClaims.SessionId"/>).</summary>
    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var key = ticket.Principal.FindFirstValue(ConsoleClaims.SessionId)
            ?? throw new InvalidOperationException("A console sign-in carries its session id.");
        await RenewAsync(key, ticket);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) =>
        cache.SetAsync(TicketPrefix + key, protector.Protect(TicketSerializer.Default.Serialize(ticket)), EntryOptions());

    public async Task<AuthenticationTicket?> RetrieveAsync(string key)
    {
        var bytes = await ReadAsync(TicketPrefix + key, CancellationToken.None);
        return bytes is null ? null : TicketSerializer.Default.Deserialize(bytes);
    }

    /// <summary>Ends the session: its ticket and its tokens.</summary>
    public async Task RemoveAsync(string key)
    {
        await cache.RemoveAsync(TicketPrefix + key);
        await cache.RemoveAsync(TokensPrefix + key);
    }

    public async Task<SessionTokens?> GetTokensAsync(string sessionId, CancellationToken cancellationToken)
    {
        var bytes = await ReadAsync(TokensPrefix + sessionId, cancellationToken);
        return bytes is null ? null : JsonSerializer.Deserialize<SessionTokens>(bytes);
    }

    public Task SetTokensAsync(string sessionId, SessionTokens tokens, CancellationToken cancellationToken) =>
        cache.SetAsync(TokensPrefix + sessionId, protector.Protect(JsonSerializer.SerializeToUtf8Bytes(tokens)), EntryOptions(), cancellationToken);

    /// <summary>Keeps an active session alive (an interactive page makes no HTTP requests); false when it has ended.</summary>
    public async Task<bool> TouchAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (await cache.GetAsync(TokensPrefix + sessionId, cancellationToken) is null)
        {
            return false;
        }

        await cache.RefreshAsync(TicketPrefix + sessionId, cancellationToken);
        return true;
    }

    private async Task<byte[]?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        var bytes = await cache.GetAsync(key, cancellationToken);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return protector.Unprotect(bytes);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // Written with a key this replica does not have (or tampered with): as good as no session.
            return null;
        }
    }

    private DistributedCacheEntryOptions EntryOptions() => new() { SlidingExpiration = options.Value.SessionIdleTimeout };
}

/// <summary>Plugs the session store into the cookie handler.</summary>
internal sealed class ConfigureSessionCookie(ConsoleSessionStore store, IOptions<ConsoleOptions> options) : IConfigureNamedOptions<CookieAuthenticationOptions>
{
    public void Configure(string? name, CookieAuthenticationOptions cookie)
    {
        if (name != CookieAuthenticationDefaults.AuthenticationScheme)
        {
            return;
        }

        cookie.SessionStore = store;
        cookie.ExpireTimeSpan = options.Value.SessionIdleTimeout;
    }

    public void Configure(CookieAuthenticationOptions options) => Configure(Options.DefaultName, options);
}
