using AgentPlatform.Infrastructure;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.ModelGateway.OpenAi;
using AgentPlatform.ServiceDefaults;
using AgentPlatform.ServiceDefaults.Authentication;

var builder = WebApplication.CreateBuilder(args);

builder.AddHttpServiceDefaults();
builder.AddPlatformInfrastructure();
builder.AddPlatformAuthentication();
builder.AddModelGovernance();
builder.AddModelDataPlane();

var app = builder.Build();

app.UseProblemDetailsErrors();
app.UseAuthentication();
app.UseTenantContext();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapVersionEndpoint("/v1/version", ResourceNames.ModelGateway);
app.MapOpenAiApi();

app.Run();

/// <summary>The entry point, public so integration tests can host this service in-process.</summary>
public partial class Program;
