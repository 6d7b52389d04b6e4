using System.Security.Cryptography;
using AgentPlatform.ControlPlane.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>The control plane refuses to start without a usable key-encryption key, and says why.</summary>
public sealed class TokenServiceOptionsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("not base64 at all!")]
    [InlineData("c2hvcnQ=")]
    public void Startup_fails_with_a_clear_message_without_a_usable_key_encryption_key(string? keyEncryptionKey)
    {
        using var host = Build(keyEncryptionKey);

        var failure = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Secrets:KeyEncryptionKey", failure.Message, StringComparison.Ordinal);
        Assert.Contains("32", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_base64_key_of_at_least_32_bytes_is_accepted()
    {
        using var host = Build(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

        host.Services.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(TimeSpan.FromMinutes(15), host.Services.GetRequiredService<IOptions<TokenServiceOptions>>().Value.AccessTokenLifetime);
    }

    private static IHost Build(string? keyEncryptionKey)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Secrets:KeyEncryptionKey"] = keyEncryptionKey });
        builder.AddPlatformIdentity();
        return builder.Build();
    }
}
