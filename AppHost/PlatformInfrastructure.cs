using AgentPlatform.ServiceDefaults;

namespace AgentPlatform.AppHost;

/// <summary>
/// The backing services of the selected topology and how a service project is wired to them. Services find
/// their adapters by configuration alone: a connection string present selects the real service.
/// </summary>
internal sealed class PlatformInfrastructure
{
    /// <summary>Command-line switch <c>--data-dir</c>: where the embedded topology keeps its data.</summary>
    public const string DataDirectoryKey = "data-dir";

    private readonly List<Action<IResourceBuilder<ProjectResource>>> wiring = [];
    private Action<IResourceBuilder<ProjectResource>>? counters;

    private PlatformInfrastructure(PlatformTopology topology, string? dataDirectory)
    {
        Topology = topology;
        DataDirectory = dataDirectory;
    }

    public PlatformTopology Topology { get; }

    /// <summary>The embedded topology's single data directory; null in the distributed topology.</summary>
    public string? DataDirectory { get; }

    public static PlatformInfrastructure Add(IDistributedApplicationBuilder builder)
    {
        var topology = PlatformTopologySelector.Select(builder);
        return topology == PlatformTopology.Embedded ? AddEmbedded(builder) : AddDistributed(builder);
    }

    /// <summary>
    /// Only the counters port (rate limits at the edge): Redis in the distributed topology, so every gateway
    /// instance shares the token buckets; in-process otherwise.
    /// </summary>
    public IResourceBuilder<ProjectResource> WireCounters(IResourceBuilder<ProjectResource> project)
    {
        counters?.Invoke(project);
        return project;
    }

    public IResourceBuilder<ProjectResource> Wire(IResourceBuilder<ProjectResource> project)
    {
        if (DataDirectory is not null)
        {
            project.WithEnvironment("Platform__DataDirectory", DataDirectory);
        }

        foreach (var wire in wiring)
        {
            wire(project);
        }

        return project;
    }

    private static PlatformInfrastructure AddEmbedded(IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration[DataDirectoryKey];
        var dataDirectory = Path.GetFullPath(string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(builder.AppHostDirectory, "..", ".data")
            : configured);
        Directory.CreateDirectory(dataDirectory);
        return new PlatformInfrastructure(PlatformTopology.Embedded, dataDirectory);
    }

    private static PlatformInfrastructure AddDistributed(IDistributedApplicationBuilder builder)
    {
        var infrastructure = new PlatformInfrastructure(PlatformTopology.Distributed, dataDirectory: null);

        var postgres = builder.AddPostgres(ResourceNames.Postgres).WithDataVolume("agentplatform-postgres");
        var database = postgres.AddDatabase(ResourceNames.Database);
        infrastructure.wiring.Add(project => project.WithReference(database).WaitFor(postgres));

        var redis = builder.AddRedis(ResourceNames.Redis);
        infrastructure.counters = project => project.WithReference(redis).WaitFor(redis);
        infrastructure.wiring.Add(infrastructure.counters);

        // The apache/kafka image runs a single KRaft node that advertises localhost:9092, so the host port
        // is fixed and not proxied: clients reach the broker at the address it advertises.
        var kafka = builder.AddContainer(ResourceNames.Kafka, "apache/kafka", "4.1.1")
            .WithEndpoint(port: 9092, targetPort: 9092, name: "broker", scheme: "tcp", isProxied: false)
            .WithVolume("agentplatform-kafka", "/var/lib/kafka/data");
        var kafkaBroker = kafka.GetEndpoint("broker");
        infrastructure.AddConnectionString(ResourceNames.Kafka, ReferenceExpression.Create($"{kafkaBroker.Property(EndpointProperty.HostAndPort)}"), kafka);

        var objectStoreUser = builder.AddParameter("objectstore-user", "agentplatform");
        var objectStorePassword = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, "objectstore-password");
        var minio = builder.AddContainer(ResourceNames.ObjectStore, "minio/minio", "RELEASE.2025-09-07T16-13-09Z")
            .WithArgs("server", "/data")
            .WithHttpEndpoint(targetPort: 9000, name: "http")
            .WithEnvironment("MINIO_ROOT_USER", objectStoreUser)
            .WithEnvironment("MINIO_ROOT_PASSWORD", objectStorePassword)
            .WithVolume("agentplatform-objectstore", "/data");
        var minioEndpoint = minio.GetEndpoint("http");
        infrastructure.AddConnectionString(ResourceNames.ObjectStore, ReferenceExpression.Create(
            $"Endpoint={minioEndpoint.Property(EndpointProperty.Url)};AccessKey={objectStoreUser};SecretKey={objectStorePassword};Bucket=agentplatform"), minio);

        var temporal = builder.AddContainer(ResourceNames.Temporal, "temporalio/temporal", "1.4.1")
            .WithArgs("server", "start-dev", "--ip", "0.0.0.0", "--db-filename", "/data/temporal.db")
            .WithEndpoint(targetPort: 7233, name: "grpc", scheme: "tcp")
            .WithHttpEndpoint(targetPort: 8233, name: "ui")
            .WithVolume("agentplatform-temporal", "/data");
        var temporalEndpoint = temporal.GetEndpoint("grpc");
        infrastructure.AddConnectionString(ResourceNames.Temporal, ReferenceExpression.Create($"{temporalEndpoint.Property(EndpointProperty.HostAndPort)}"), temporal);

        return infrastructure;
    }

    /// <summary>For containers without an Aspire hosting package: the connection string as the variable services read.</summary>
    private void AddConnectionString(string name, ReferenceExpression connectionString, IResourceBuilder<ContainerResource> container) =>
        wiring.Add(project => project.WithEnvironment($"ConnectionStrings__{name}", connectionString).WaitFor(container));
}
