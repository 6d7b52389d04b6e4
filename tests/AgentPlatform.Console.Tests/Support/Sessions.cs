using AgentPlatform.Console.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Console.Tests.Support;

public static class Sessions
{
    /// <summary>A real session store over an in-memory cache and throwaway Data Protection keys.</summary>
    public static ConsoleSessionStore Store(ConsoleOptions? options = null) => new(
        new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions())),
        new EphemeralDataProtectionProvider(),
        Options.Create(options ?? new ConsoleOptions()));
}
