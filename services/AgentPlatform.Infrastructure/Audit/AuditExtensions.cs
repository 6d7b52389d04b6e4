using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace AgentPlatform.Infrastructure.Audit;

public static class AuditExtensions
{
    /// <summary>Registers <see cref="AuditTrail"/> (scoped, over the request's <c>AgentPlatformDbContext</c>).</summary>
    public static IHostApplicationBuilder AddAuditTrail(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.TryAddScoped<AuditTrail>();
        return builder;
    }
}
