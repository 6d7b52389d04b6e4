using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// The object store connection string (<c>ConnectionStrings:objectstore</c>):
/// <c>Endpoint=http://127.0.0.1:9000;AccessKey=…;SecretKey=…;Bucket=agentplatform;Region=us-east-1</c>.
/// Only <c>Endpoint</c> is required; <c>Bucket</c> defaults to <see cref="DefaultBucket"/>.
/// </summary>
public sealed partial record S3ConnectionSettings(Uri Endpoint, string? AccessKey, string? SecretKey, string Bucket, string? Region)
{
    public const string DefaultBucket = "agentplatform";

    public bool UseTls => Endpoint.Scheme == Uri.UriSchemeHttps;

    public static S3ConnectionSettings Parse(string connectionString)
    {
        var values = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string? Value(string name) => values.TryGetValue(name, out var value) && Convert.ToString(value, CultureInfo.InvariantCulture) is { Length: > 0 } text ? text : null;

        var endpointText = Value("Endpoint") ?? throw new FormatException("The object store connection string has no Endpoint.");
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint)
            || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)
            || endpoint.AbsolutePath != "/")
        {
            throw new FormatException($"The object store Endpoint '{endpointText}' must be an http or https URL without a path.");
        }

        var bucket = Value("Bucket") ?? DefaultBucket;
        if (!BucketPattern().IsMatch(bucket))
        {
            throw new FormatException($"'{bucket}' is not a valid bucket name: use 3-63 lowercase letters, digits, '.' and '-'.");
        }

        return new S3ConnectionSettings(endpoint, Value("AccessKey"), Value("SecretKey"), bucket, Value("Region"));
    }

    // Keeps the secret out of logs and exception messages that print the settings.
    public override string ToString() => $"S3 {Endpoint} bucket {Bucket}";

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex BucketPattern();
}
