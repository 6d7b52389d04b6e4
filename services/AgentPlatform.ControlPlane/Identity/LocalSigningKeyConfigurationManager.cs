using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// The control plane validates its own tokens with the keys it publishes, read from its
/// <see cref="SigningKeyRing"/> instead of over HTTP from itself. A token naming an unknown <c>kid</c> makes the
/// bearer handler request a refresh, which reloads the ring (at most once a second).
/// </summary>
internal sealed class LocalSigningKeyConfigurationManager(SigningKeyRing ring, string issuer) : IConfigurationManager<OpenIdConnectConfiguration>
{
    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        var configuration = new OpenIdConnectConfiguration { Issuer = issuer };
        foreach (var key in await ring.GetValidationKeysAsync(cancel))
        {
            configuration.SigningKeys.Add(key);
        }

        return configuration;
    }

    public void RequestRefresh() => ring.RequestReload();
}

/// <summary>Replaces the bearer handler's JWKS-over-HTTP configuration manager with the local one.</summary>
internal sealed class LocalSigningKeysPostConfigure(SigningKeyRing ring, IOptions<PlatformAuthenticationOptions> authentication)
    : IPostConfigureOptions<JwtBearerOptions>
{
    public void PostConfigure(string? name, JwtBearerOptions options)
    {
        if (name == JwtBearerDefaults.AuthenticationScheme)
        {
            options.ConfigurationManager = new LocalSigningKeyConfigurationManager(ring, authentication.Value.Issuer);
        }
    }
}
