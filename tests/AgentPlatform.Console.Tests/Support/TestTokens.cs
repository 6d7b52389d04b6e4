using System.Text;
using System.Text.Json;

namespace AgentPlatform.Console.Tests.Support;

/// <summary>Access tokens shaped like the platform's (a JWT the console reads but does not validate).</summary>
public static class TestTokens
{
    public static string AccessToken(string subject = "user-1", string tenant = "acme", string name = "alice", params string[] roles)
    {
        var header = Encode(new { alg = "RS256", typ = "at+jwt", kid = "k1" });
        var payload = Encode(new { sub = subject, tenant_id = tenant, name, roles, jti = Guid.NewGuid().ToString("N"), exp = 4_000_000_000L });
        return $"{header}.{payload}.{Base64Url(Encoding.UTF8.GetBytes("signature"))}";
    }

    private static string Encode(object value) => Base64Url(JsonSerializer.SerializeToUtf8Bytes(value));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
