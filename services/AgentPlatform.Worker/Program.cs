using AgentPlatform.Infrastructure;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.ServiceDefaults;
using AgentPlatform.Worker.Knowledge;
using AgentPlatform.Worker.Tasks;
using AgentPlatform.Worker.Tools;

var builder = WebApplication.CreateBuilder(args);

builder.AddHttpServiceDefaults();
builder.AddPlatformInfrastructure();
builder.AddPlatformBackgroundProcessing();
builder.AddServiceTokens();
builder.AddToolGateway();
builder.AddKnowledge();
builder.AddTaskRunner();

var app = builder.Build();

app.UseProblemDetailsErrors();
app.MapDefaultEndpoints();

app.Run();

/// <summary>The entry point, public so integration tests can host this service in-process.</summary>
public partial class Program;
