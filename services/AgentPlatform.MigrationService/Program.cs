using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.MigrationService;
using AgentPlatform.ServiceDefaults;

var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase();
builder.Services.AddHostedService<MigrationWorker>();

builder.Build().Run();
