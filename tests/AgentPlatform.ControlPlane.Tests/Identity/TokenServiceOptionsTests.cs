using System.Security.Cryptography;
using AgentPlatform.ControlPlane.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>The control plane refuses to start without a usable key-encryption key or with a malformed service client, and says why.</summary>
public sealed class TokenServiceOptionsTests
{
    private const string ServiceSecret = "a-generated-service-client-secret-0123456789";

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

    [Theory]
    [InlineData("worker", "too-short", "Identity:ServiceClients:worker:Secret must have at least 32 characters")]
    [InlineData("worker", "", "Identity:ServiceClients:worker:Secret must have at least 32 characters")]
    [InlineData("cli_worker", ServiceSecret, "Identity:ServiceClients:cli_worker is not a valid service client id")]
    [InlineData("Worker", ServiceSecret, "Identity:ServiceClients:Worker is not a valid service client id")]
    public void Startup_fails_with_a_clear_message_for_a_malformed_service_client(string clientId, string secret, string message)
    {
        using var host = Build(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), ($"Identity:ServiceClients:{clientId}:Secret", secret));

        var failure = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
        if (secret.Length > 0)
        {
            Assert.DoesNotContain(secret, failure.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Service_clients_are_bound_by_their_id()
    {
        using var host = Build(
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ("Identity:ServiceClients:worker:Secret", ServiceSecret),
            ("Identity:ServiceClients:evaluator:Secret", ServiceSecret + "-2"));

        host.Services.GetRequiredService<IStartupValidator>().Validate();
        var clients = host.Services.GetRequiredService<IOptions<TokenServiceOptions>>().Value.ServiceClients;
        Assert.Equal(["evaluator", "worker"], clients.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(ServiceSecret, clients["worker"].Secret);
    }

    private static IHost Build(string? keyEncryptionKey, params (string Key, string? Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var configuration = new Dictionary<string, string?> { ["Secrets:KeyEncryptionKey"] = keyEncryptionKey };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddPlatformIdentity();
        return builder.Build();
    }
}
