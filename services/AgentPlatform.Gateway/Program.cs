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

/// <summary>The entry point, public so integration tests can host this service in-process.</summary>
public partial class Program;
