using AgentPlatform.Console.ApiKeys;
using AgentPlatform.Domain.Identity;

namespace AgentPlatform.Console.Tests.ApiKeys;

public sealed class CreateApiKeyFormTests
{
    [Fact]
    public void Only_roles_the_user_may_give_are_offered()
    {
        Assert.Equal([Roles.TenantAdmin, Roles.Developer, Roles.Reviewer, Roles.Operator, Roles.Viewer], CreateApiKeyForm.AssignableRoles([Roles.TenantAdmin]));
        Assert.Equal(Roles.All, CreateApiKeyForm.AssignableRoles([Roles.PlatformAdmin]));
        Assert.Equal([Roles.Operator, Roles.Viewer], CreateApiKeyForm.AssignableRoles([Roles.Operator]));
    }

    [Fact]
    public void A_key_needs_a_name_and_a_role()
    {
        var form = new CreateApiKeyForm { Name = "  " };

        Assert.Equal(["name", "roles"], form.Validate().Keys.Order());
    }

    [Fact]
    public void The_request_expires_after_the_chosen_lifetime()
    {
        var now = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
        var form = new CreateApiKeyForm { Name = " billing-sync ", Roles = [Roles.Operator], LifetimeDays = 30 };

        var request = form.ToRequest(now);

        Assert.Empty(form.Validate());
        Assert.Equal("billing-sync", request.Name);
        Assert.Equal([Roles.Operator], request.Roles);
        Assert.Equal(now.AddDays(30), request.ExpiresAt);
    }

    [Fact]
    public void A_created_key_never_prints_its_secret()
    {
        var created = new CreatedApiKey(Guid.NewGuid(), "billing", "apk_abcd", [Roles.Operator], DateTime.UtcNow, DateTime.UtcNow.AddDays(1), "apk_abcd_secret-value");

        Assert.DoesNotContain("secret-value", created.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "2026-12-01", ApiKeyStatus.Active)]
    [InlineData(null, "2026-11-01", ApiKeyStatus.Expired)]
    [InlineData("2026-11-20", "2026-12-01", ApiKeyStatus.Revoked)]
    public void A_keys_status_follows_revocation_and_expiry(string? revokedAt, string expiresAt, string status)
    {
        var key = new ApiKey(Guid.NewGuid(), "k", "apk_1", [], "u", new DateTime(2026, 10, 1), DateTime.Parse(expiresAt, System.Globalization.CultureInfo.InvariantCulture),
            revokedAt is null ? null : DateTime.Parse(revokedAt, System.Globalization.CultureInfo.InvariantCulture), null);

        Assert.Equal(status, key.StatusAt(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero)));
    }
}
