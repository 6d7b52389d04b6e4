using Microsoft.Extensions.Options;

namespace AgentPlatform.Testing;

/// <summary>An <see cref="IOptionsMonitor{TOptions}"/> over one options object: a test changes the object to change the options.</summary>
public sealed class FixedOptionsMonitor<TOptions>(TOptions value) : IOptionsMonitor<TOptions>
{
    public TOptions CurrentValue => value;

    public TOptions Get(string? name) => value;

    public IDisposable? OnChange(Action<TOptions, string?> listener) => null;
}
