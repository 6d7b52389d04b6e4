#:sdk Microsoft.NET.Sdk.Web
#:property PublishAot=false
// The backend of benchmarks/gateway-overhead.sh: stands in for the control plane behind the gateway. It
// publishes a JWKS, issues access tokens to the script (/bench/token), answers the API key token exchange, and
// serves a small JSON document at /api/bench and /api/version. Run: dotnet run -c Release gateway-overhead-backend.cs
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

const string KeyId = "bench";
var issuer = Environment.GetEnvironmentVariable("BENCH_ISSUER") ?? "http://bench.test";
using var key = RSA.Create(2048);
var publicKey = key.ExportParameters(includePrivateParameters: false);

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

app.MapGet("/.well-known/jwks.json", () => Results.Json(new
{
    keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = KeyId, n = Base64Url(publicKey.Modulus!), e = Base64Url(publicKey.Exponent!) } },
}));
app.MapGet("/bench/token", (string tenant, string subject) => Results.Text(Issue(tenant, subject, apiKeyId: null)));
app.MapPost("/auth/token", async (HttpRequest request) =>
{
    var form = await request.ReadFormAsync();
    return form["subject_token"].ToString().StartsWith("apk_bench", StringComparison.Ordinal)
        ? Results.Json(new { access_token = Issue("bench-tenant", "apikey:bench", "bench-key"), token_type = "Bearer", expires_in = 900 })
        : Results.Json(new { error = "invalid_grant" }, statusCode: 400);
});
app.MapGet("/api/bench", () => Results.Json(new { service = "bench", ok = true }));
app.MapGet("/api/version", () => Results.Json(new { service = "bench", version = "1" }));

app.Run();

string Issue(string tenant, string subject, string? apiKeyId)
{
    var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    var header = JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", kid = KeyId, typ = "at+jwt" });
    var claims = new Dictionary<string, object>
    {
        ["iss"] = issuer,
        ["aud"] = "agentplatform",
        ["sub"] = subject,
        ["tenant_id"] = tenant,
        ["roles"] = new[] { "developer" },
        ["jti"] = Guid.NewGuid().ToString("N"),
        ["iat"] = now,
        ["nbf"] = now - 60,
        ["exp"] = now + 3600,
    };
    if (apiKeyId is not null)
    {
        claims["api_key_id"] = apiKeyId;
    }

    var signingInput = $"{Base64Url(header)}.{Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims))}";
    var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    return $"{signingInput}.{Base64Url(signature)}";
}

static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
