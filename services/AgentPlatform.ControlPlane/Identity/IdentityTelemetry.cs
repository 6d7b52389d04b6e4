using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>Traces and metrics of the authorization server: tokens issued, sign-in failures, lockouts, refresh-token reuse.</summary>
public sealed class IdentityTelemetry
{
    public const string Name = "AgentPlatform.Identity";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Counter<long> tokensIssued;
    private readonly Counter<long> signInFailures;
    private readonly Counter<long> lockouts;
    private readonly Counter<long> refreshTokenReuse;
    private readonly Counter<long> keyRotations;

    public IdentityTelemetry(IMeterFactory meterFactory)
    {
        // The factory owns the meter and disposes it with the container.
        var meter = meterFactory.Create(Name);
        tokensIssued = meter.CreateCounter<long>("agentplatform.identity.tokens_issued", "{token}", "Access tokens issued, by grant type.");
        signInFailures = meter.CreateCounter<long>("agentplatform.identity.sign_in_failures", "{failure}", "Refused password sign-ins, by reason.");
        lockouts = meter.CreateCounter<long>("agentplatform.identity.lockouts", "{lockout}", "Accounts locked after too many failed sign-ins.");
        refreshTokenReuse = meter.CreateCounter<long>("agentplatform.identity.refresh_token_reuse", "{detection}", "Consumed refresh tokens presented again after the grace period; each revoked its family.");
        keyRotations = meter.CreateCounter<long>("agentplatform.identity.signing_key_rotations", "{rotation}", "Signing keys created, by trigger.");
    }

    public void TokenIssued(string grantType) => tokensIssued.Add(1, new KeyValuePair<string, object?>("grant_type", grantType));

    /// <summary>A platform service's token (a <c>client_credentials</c> grant), tagged with the service client's id (a handful, configured).</summary>
    public void ServiceTokenIssued(string serviceClientId) => tokensIssued.Add(
        1,
        new KeyValuePair<string, object?>("grant_type", GrantTypes.ClientCredentials),
        new KeyValuePair<string, object?>("service_client", serviceClientId));

    public void SignInFailed(string reason) => signInFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void LockedOut() => lockouts.Add(1);

    public void RefreshTokenReused() => refreshTokenReuse.Add(1);

    public void KeyCreated(string trigger) => keyRotations.Add(1, new KeyValuePair<string, object?>("trigger", trigger));
}
