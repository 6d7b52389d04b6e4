using AgentPlatform.AppHost;
using AgentPlatform.ServiceDefaults;

var builder = DistributedApplication.CreateBuilder(args);

var infrastructure = PlatformInfrastructure.Add(builder);

var migrations = infrastructure.Wire(builder.AddProject<Projects.AgentPlatform_MigrationService>(ResourceNames.Migrations));

var controlPlane = infrastructure.Wire(builder.AddProject<Projects.AgentPlatform_ControlPlane>(ResourceNames.ControlPlane))
    .WithHttpHealthCheck(Extensions.HealthEndpointPath)
    .WaitForCompletion(migrations);

var modelGateway = infrastructure.Wire(builder.AddProject<Projects.AgentPlatform_ModelGateway>(ResourceNames.ModelGateway))
    .WithHttpHealthCheck(Extensions.HealthEndpointPath)
    .WithModelEndpoint(builder)
    .WaitForCompletion(migrations);

var worker = infrastructure.Wire(builder.AddProject<Projects.AgentPlatform_Worker>(ResourceNames.Worker))
    .WithHttpHealthCheck(Extensions.HealthEndpointPath)
    .WaitForCompletion(migrations);

var console = builder.AddProject<Projects.AgentPlatform_Console>(ResourceNames.Console)
    .WithHttpHealthCheck(Extensions.HealthEndpointPath)
    .WithReference(controlPlane)
    .WithReference(modelGateway)
    .WithReference(worker);

builder.AddProject<Projects.AgentPlatform_Gateway>(ResourceNames.Gateway)
    .WithPublicAddress(builder.Configuration)
    .WithHttpHealthCheck(Extensions.HealthEndpointPath)
    .WithReference(controlPlane)
    .WithReference(modelGateway)
    .WithReference(console);

var app = builder.Build();
app.LogTopology(infrastructure);
app.Run();
