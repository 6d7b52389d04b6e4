using AgentPlatform.Domain.Identity;

namespace AgentPlatform.Console.ApiKeys;

/// <summary>
/// The create-key form: a name, the roles the key acts with (only those the signed-in user may give, as the API
/// checks) and a lifetime from <see cref="Lifetimes"/> (the API allows at most a year).
/// </summary>
public sealed class CreateApiKeyForm
{
    public const int MaxRoles = 10;

    public static IReadOnlyList<int> Lifetimes { get; } = [7, 30, 90, 180, 365];

    public string Name { get; set; } = "";

    public IReadOnlyCollection<string> Roles { get; set; } = [];

    public int LifetimeDays { get; set; } = 90;

    /// <summary>The roles a user holding <paramref name="userRoles"/> may give a key (no escalation).</summary>
    public static IReadOnlyList<string> AssignableRoles(IEnumerable<string> userRoles)
    {
        var held = userRoles.ToList();
        return [.. Domain.Identity.Roles.All.Where(role => RolePermissions.MayAssign(held, [role]))];
    }

    public IReadOnlyDictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (Name.Trim().Length is 0 or > 200)
        {
            errors["name"] = ["Name the key (at most 200 characters), e.g. after the system that will use it."];
        }

        if (Roles.Count is 0 or > MaxRoles)
        {
            errors["roles"] = ["Choose what the key may do: at least one role."];
        }

        if (!Lifetimes.Contains(LifetimeDays))
        {
            errors["expiresAt"] = ["Choose how long the key stays valid."];
        }

        return errors;
    }

    public CreateApiKeyRequest ToRequest(DateTimeOffset now) => new(Name.Trim(), [.. Roles], now.AddDays(LifetimeDays));
}
