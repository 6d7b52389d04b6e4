namespace AgentPlatform.Testing;

/// <summary>
/// Where the real backing services for adapter tests are. On a laptop a missing service skips its tests with
/// the reason shown; with <c>AGENTPLATFORM_REQUIRE_INFRASTRUCTURE=true</c> (set by <c>.ci/run</c>) a missing
/// service fails them, so CI can never pass without really running every adapter.
/// </summary>
public static class TestInfrastructure
{
    public const string RequireVariable = "AGENTPLATFORM_REQUIRE_INFRASTRUCTURE";
    public const string PostgresVariable = "AGENTPLATFORM_TEST_POSTGRES";
    public const string RedisVariable = "AGENTPLATFORM_TEST_REDIS";
    public const string S3Variable = "AGENTPLATFORM_TEST_S3";

    /// <summary>Optional: a real Kafka cluster. Without it the Kafka tests use librdkafka's mock cluster.</summary>
    public const string KafkaVariable = "AGENTPLATFORM_TEST_KAFKA";

    public static bool IsRequired =>
        Environment.GetEnvironmentVariable(RequireVariable) is { } value
        && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Admin connection string of a PostgreSQL server, e.g. <c>Host=127.0.0.1;Port=5432;Username=postgres</c>.</summary>
    public static string Postgres => Require(PostgresVariable, "PostgreSQL");

    /// <summary>StackExchange.Redis configuration, e.g. <c>127.0.0.1:6379</c>.</summary>
    public static string Redis => Require(RedisVariable, "Redis");

    /// <summary>An S3 endpoint, e.g. <c>Endpoint=http://127.0.0.1:4568;AccessKey=S3RVER;SecretKey=S3RVER</c>.</summary>
    public static string S3 => Require(S3Variable, "S3");

    /// <summary>
    /// The Node.js interop checks in <c>tests/interop</c> (a JWT library outside .NET): the folder, once
    /// <c>npm ci</c> has installed its packages there.
    /// </summary>
    public static string NodeInterop
    {
        get
        {
            var folder = Path.Combine(RepositoryPaths.Root, "tests", "interop");
            return Directory.Exists(Path.Combine(folder, "node_modules"))
                ? folder
                : Missing("The Node.js interop packages are not installed: run 'npm ci' in tests/interop (see README, 'Running the tests').");
        }
    }

    public static string? Kafka => Environment.GetEnvironmentVariable(KafkaVariable) is { Length: > 0 } value ? value : null;

    private static string Require(string variable, string service)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
        {
            return value;
        }

        return Missing($"{service} is not configured: set {variable} to run this adapter test (see README, 'Running the tests').");
    }

    /// <summary>Skips the test with <paramref name="reason"/>, or fails it where infrastructure is required.</summary>
    private static string Missing(string reason)
    {
        if (IsRequired)
        {
            throw new InvalidOperationException($"{reason} {RequireVariable} is set, so a missing service fails the run.");
        }

        Assert.Skip(reason);
        return null!;
    }
}
