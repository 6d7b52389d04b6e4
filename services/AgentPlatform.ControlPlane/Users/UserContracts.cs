using System.ComponentModel.DataAnnotations;
using AgentPlatform.Infrastructure.Identity;

namespace AgentPlatform.ControlPlane.Users;

public sealed record UserResponse(
    Guid Id,
    string UserName,
    string DisplayName,
    IReadOnlyList<string> Roles,
    DateTime CreatedAt,
    DateTime? DisabledAt,
    DateTime? LockedOutUntil)
{
    public static UserResponse From(UserAccount user) =>
        new(user.Id, user.UserName, user.DisplayName, user.Roles, user.CreatedAt, user.DisabledAt, user.LockedOutUntil);
}

public sealed record CreateUserRequest
{
    [Required, StringLength(100, MinimumLength = 3), RegularExpression(UserNames.Pattern, ErrorMessage = UserNames.PatternMessage)]
    public required string UserName { get; init; }

    [Required, StringLength(200, MinimumLength = 1)]
    public required string DisplayName { get; init; }

    [Required, StringLength(Passwords.MaxLength, MinimumLength = Passwords.MinLength)]
    public required string Password { get; init; }

    [Required, MinLength(1)]
    public required IReadOnlyList<string> Roles { get; init; }
}

public sealed record UpdateUserRequest
{
    [StringLength(200, MinimumLength = 1)]
    public string? DisplayName { get; init; }

    [MinLength(1)]
    public IReadOnlyList<string>? Roles { get; init; }

    /// <summary>True disables the account (its refresh tokens stop working); false enables it again.</summary>
    public bool? Disabled { get; init; }
}

public sealed record SetPasswordRequest
{
    [Required, StringLength(Passwords.MaxLength, MinimumLength = Passwords.MinLength)]
    public required string NewPassword { get; init; }
}

public sealed record ChangeOwnPasswordRequest
{
    [Required, StringLength(Passwords.MaxLength)]
    public required string CurrentPassword { get; init; }

    [Required, StringLength(Passwords.MaxLength, MinimumLength = Passwords.MinLength)]
    public required string NewPassword { get; init; }
}

public sealed record UserQuery
{
    /// <summary>Part of the user name or display name.</summary>
    [StringLength(100)]
    public string? Search { get; init; }
}

public sealed record CurrentCaller(string Subject, string TenantId, IReadOnlyList<string> Roles, IReadOnlyList<string> Permissions, string? ApiKeyId, string? ClientId);

public static class UserNames
{
    public const string Pattern = "^[A-Za-z0-9][A-Za-z0-9._@+-]*$";
    public const string PatternMessage = "Use letters, digits and . _ @ + -, starting with a letter or digit.";

    public static string Normalize(string userName) => userName.Trim().ToUpperInvariant();
}

public static class Passwords
{
    public const int MinLength = 12;
    public const int MaxLength = 1024;
}
