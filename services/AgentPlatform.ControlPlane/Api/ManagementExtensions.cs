using AgentPlatform.ControlPlane.Audit;
using AgentPlatform.ControlPlane.DeadLetters;
using AgentPlatform.ControlPlane.Knowledge;
using AgentPlatform.ControlPlane.Models;
using AgentPlatform.ControlPlane.Tasks;
using AgentPlatform.ControlPlane.Tenants;
using AgentPlatform.ControlPlane.Users;
using AgentPlatform.Infrastructure.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentPlatform.ControlPlane.Api;

public static class ManagementExtensions
{
    /// <summary>
    /// What the management APIs need beyond the infrastructure: request validation, 409 answers for lost
    /// concurrent updates, password hashing.
    /// </summary>
    public static IHostApplicationBuilder AddManagementApis(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidation();
        builder.Services.AddExceptionHandler<ConcurrencyConflictHandler>();
        builder.Services.TryAddSingleton<IPasswordHasher<UserAccount>, PasswordHasher<UserAccount>>();
        builder.AddTasksApi();
        return builder;
    }

    public static IEndpointRouteBuilder MapManagementApis(this IEndpointRouteBuilder endpoints) => endpoints
        .MapTenantsApi()
        .MapUsersApi()
        .MapAuditApi()
        .MapDeadLettersApi()
        .MapModelRoutesApi()
        .MapModelGovernanceApi()
        .MapKnowledgeApi()
        .MapTasksApi();
}
