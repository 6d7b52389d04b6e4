using AgentPlatform.Infrastructure;
using AgentPlatform.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddHttpServiceDefaults();
builder.AddPlatformInfrastructure();

var app = builder.Build();

app.UseProblemDetailsErrors();
app.MapDefaultEndpoints();
app.MapVersionEndpoint("/v1/version", ResourceNames.ModelGateway);

app.Run();
