using AgentPlatform.Gateway;
using AgentPlatform.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddHttpServiceDefaults();
builder.AddEdgeProxy();

var app = builder.Build();

app.UseTraceIdHeader();
app.UseProblemDetailsErrors();
app.MapDefaultEndpoints();
app.MapPublicApiReference();
app.MapReverseProxy();

app.Run();
