using AgentPlatform.Gateway;
using AgentPlatform.Gateway.Authentication;
using AgentPlatform.Gateway.Errors;
using AgentPlatform.Gateway.RateLimiting;
using AgentPlatform.Gateway.Tracing;
using AgentPlatform.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddHttpServiceDefaults();
builder.AddEdgeTraceContext();
builder.AddEdgeErrors();
builder.AddEdgeAuthentication();
builder.AddEdgeRateLimiting();
builder.AddEdgeProxy();

var app = builder.Build();

// Order matters: cheap refusals before expensive checks, the tenant known before anything that logs it.
app.UseTrustedForwardedHeaders();
app.UseEdgeTraceContext();
app.UseProblemDetailsErrors();
app.UseRouting();
app.UseRequestBodyLimits();
app.UseAuthentication();
app.UseCallerLogScope();
app.UseAuthorization();
app.UseRateLimiter();

app.MapDefaultEndpoints();
app.MapPublicApiReference();
app.MapReverseProxy();

app.Run();

/// <summary>The entry point, public so integration tests can host this service in-process.</summary>
public partial class Program;
