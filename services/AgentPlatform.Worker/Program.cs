using AgentPlatform.Infrastructure;
using AgentPlatform.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddHttpServiceDefaults();
builder.AddPlatformInfrastructure();
builder.AddPlatformBackgroundProcessing();

var app = builder.Build();

app.UseProblemDetailsErrors();
app.MapDefaultEndpoints();

app.Run();
