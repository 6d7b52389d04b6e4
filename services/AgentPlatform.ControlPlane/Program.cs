using AgentPlatform.ControlPlane.Api;
using AgentPlatform.ControlPlane.Identity;
using AgentPlatform.Infrastructure;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.ServiceDefaults;
using AgentPlatform.ServiceDefaults.Authentication;

var builder = WebApplication.CreateBuilder(args);

builder.AddHttpServiceDefaults();
builder.AddPlatformInfrastructure();
builder.AddPlatformAuthentication();
builder.AddPlatformIdentity();
builder.AddManagementApis();

var app = builder.Build();

app.UseProblemDetailsErrors();
app.UseAuthentication();
app.UseTenantContext();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapVersionEndpoint("/api/version", ResourceNames.ControlPlane);
app.MapIdentityEndpoints();
app.MapManagementApis();

app.Run();

/// <summary>The entry point, public so integration tests can host this service in-process.</summary>
public partial class Program;
