using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using AgentPlatform.Gateway.Errors;
using AgentPlatform.Infrastructure.Counters;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentPlatform.Gateway.RateLimiting;

public static partial class EdgeRateLimitingExtensions
{
    /// <summary>
    /// The rate limiter policies routes name (<see cref="EdgePolicies.PerCaller"/>,
    /// <see cref="EdgePolicies.PerClientAddress"/>), backed by token buckets on the counters port: Redis when
    /// <c>ConnectionStrings:redis</c> is set, so every gateway instance shares them. A rejection answers 429 with
    /// <c>Retry-After</c> (whole seconds, rounded up) and an error body.
    /// </summary>
    public static IHostApplicationBuilder AddEdgeRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformCounters();
        builder.Services.AddOptions<EdgeRateLimitOptions>()
            .BindConfiguration(EdgeRateLimitOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(options => options.Tenant.IsValid && options.Client.IsValid && options.ClientAddress.IsValid,
                "Every token bucket needs a capacity of at least 1 and a positive refill rate.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<EdgeTelemetry>();
        builder.Services.AddSingleton<RateLimitBuckets>();

        builder.Services.AddRateLimiter(options =>
        {
            options.AddPolicy<string, PerCallerPolicy>(EdgePolicies.PerCaller);
            options.AddPolicy<string, PerClientAddressPolicy>(EdgePolicies.PerClientAddress);
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = OnRejectedAsync;
        });
        return builder;
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        var scope = rejected.Lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason) ? reason : "request";

        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        LogRejected(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(EdgeRateLimitingExtensions).FullName!), scope!, seconds);
        await EdgeErrors.WriteAsync(
            context,
            StatusCodes.Status429TooManyRequests,
            $"Too many requests for this {scope}; retry after {seconds} s.",
            "rate_limit_exceeded");
    }

    [LoggerMessage(LogLevel.Information, "Rate limit of the {Scope} exhausted; answered 429 with Retry-After {Seconds} s.")]
    private static partial void LogRejected(ILogger logger, string scope, long seconds);
}
