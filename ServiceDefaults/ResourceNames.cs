namespace AgentPlatform.ServiceDefaults;

/// <summary>
/// Names of the AppHost's resources. Service discovery, connection strings and tests all use these, so a
/// rename happens in one place.
/// </summary>
public static class ResourceNames
{
    public const string Gateway = "gateway";
    public const string ControlPlane = "controlplane";
    public const string Worker = "worker";
    public const string ModelGateway = "modelgateway";
    public const string Console = "console";
    public const string Migrations = "migrations";

    // Backing services of the distributed topology; each is also the name of its connection string.
    public const string Postgres = "postgres";
    public const string Database = "agentplatform";
    public const string Redis = "redis";
    public const string Kafka = "kafka";
    public const string ObjectStore = "objectstore";
    public const string Temporal = "temporal";

    /// <summary>An OpenAI-compatible model endpoint the model gateway uses instead of its offline provider.</summary>
    public const string Models = "models";
}
