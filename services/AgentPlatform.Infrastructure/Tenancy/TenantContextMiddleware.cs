using System.Diagnostics;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.Infrastructure.Tenancy;

public static class TenantContextMiddleware
{
    /// <summary>
    /// Binds each authenticated request to the tenant of its credential (the <c>tenant_id</c> claim) — the
    /// only place a request's tenant comes from — and puts the tenant on the request's span and log scope.
    /// Runs after authentication.
    /// </summary>
    public static IApplicationBuilder UseTenantContext(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.User.Identity?.IsAuthenticated != true)
        {
            await next(context);
            return;
        }

        var tenantId = context.User.FindFirst(PlatformClaims.TenantId)?.Value;
        if (!Domain.Tenancy.TenantId.IsValid(tenantId))
        {
            // A validly signed token without a usable tenant is a platform bug, not a client error to retry.
            await Results.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "The credential names no valid tenant.").ExecuteAsync(context);
            return;
        }

        context.RequestServices.GetRequiredService<TenantContext>().SetTenant(tenantId);
        Activity.Current?.SetTag(PlatformTags.TenantId, tenantId);
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("AgentPlatform.Tenancy");
        using (logger.BeginTenantScope(tenantId))
        {
            await next(context);
        }
    });
}
