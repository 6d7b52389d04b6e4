using AgentPlatform.AppHost;
using AgentPlatform.ServiceDefaults;

var builder = DistributedApplication.CreateBuilder(args);

var infrastructure = PlatformInfrastructure.Add(builder);

// The gateway is the platform's public address, which is also the issuer of its tokens.
var gateway = builder.AddProject<Projects.AgentPlatform_Gateway>(ResourceNames.Gateway)
    .WithPublicAddress(builder.Configuration)
    .WithHttpHealthCheck(Extensions.HealthEndpointPath);
var identity = PlatformIdentity.Add(builder, gateway);

var migrations = infrastructure.Wire(builder.AddProject<Projects.AgentPlatform_MigrationService>(ResourceNames.Migrations));

var controlPlane = infrastructure.Wire(builder.AddProject<Projects.AgentPlatform_ControlPlane>(ResourceNames.ControlPlane))
    .WithHttpHealthCheck(Extensions.HealthEndpointPath)
    .WaitForCompletion(migrations);
identity.Issue(controlPlane);

var modelGateway = infrastructure.Wire(builder.AddProject<Projects.AgentPlatform_ModelGateway>(ResourceNames.ModelGateway))
    .WithHttpHealthCheck(Extensions.HealthEndpointPath)
    .WithModelEndpoint(builder)
    .WithReference(controlPlane)
    .WaitForCompletion(migrations);
identity.DecryptSecrets(identity.Validate(modelGateway));

// The worker calls the model gateway for tenants' tasks with service tokens from the control plane.
var worker = infrastructure.Wire(builder.AddProject<Projects.AgentPlatform_Worker>(ResourceNames.Worker))
    .WithHttpHealthCheck(Extensions.HealthEndpointPath)
    .WithReference(controlPlane)
    .WithReference(modelGateway)
    .WaitForCompletion(migrations);
identity.RequestServiceTokens(worker);
if (infrastructure.Topology == PlatformTopology.Distributed)
{
    // Tasks run as Temporal workflows where Temporal runs; the embedded runner (journal + leases) otherwise.
    worker.WithEnvironment("TaskRunner__Runner", "temporal");
}

var console = builder.AddProject<Projects.AgentPlatform_Console>(ResourceNames.Console)
    .WithHttpHealthCheck(Extensions.HealthEndpointPath)
    .WithReference(controlPlane)
    .WithReference(modelGateway)
    .WithReference(worker);
if (builder.ExecutionContext.IsRunMode && builder.Configuration["ASPNETCORE_URLS"] is { Length: > 0 } dashboardUrls)
{
    // Trace ids on the console's pages link to this run's dashboard.
    console.WithEnvironment("Console__TraceUrlTemplate", $"{dashboardUrls.Split(';')[0].TrimEnd('/')}/traces/detail/{{traceId}}");
}

infrastructure.WireCounters(identity.Validate(gateway))
    .WithReference(controlPlane)
    .WithReference(modelGateway)
    .WithReference(console);

var app = builder.Build();
app.LogTopology(infrastructure);
app.Run();
