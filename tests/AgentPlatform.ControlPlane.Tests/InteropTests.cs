using System.Diagnostics;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Testing;

namespace AgentPlatform.ControlPlane.Tests;

/// <summary>
/// The platform's access tokens validate in a JWT library outside .NET (Node.js <c>jose</c>), given only the
/// issuer: it reads the discovery document, follows <c>jwks_uri</c> and checks signature, typ, iss, aud, exp.
/// </summary>
public sealed class InteropTests(SqlitePlatformFixture fixture) : IClassFixture<SqlitePlatformFixture>
{
    [Fact]
    public async Task An_access_token_validates_with_jose_from_the_published_discovery_document_and_jwks()
    {
        var folder = TestInfrastructure.NodeInterop;
        var platform = await fixture.GetAsync();
        var token = await platform.SignInAsAdminAsync();
        var issuer = platform.GatewayAddress.ToString().TrimEnd('/');

        var (exitCode, output, error) = await RunNodeAsync(folder, issuer, token);
        Assert.True(exitCode == 0, $"jose rejected the token: {error}");
        using var verified = JsonDocument.Parse(output);
        Assert.Equal("at+jwt", verified.RootElement.GetProperty("header").GetProperty("typ").GetString());
        Assert.Equal("RS256", verified.RootElement.GetProperty("header").GetProperty("alg").GetString());
        Assert.Equal("default", verified.RootElement.GetProperty("claims").GetProperty("tenant_id").GetString());

        var tampered = token[..^4] + (token[^4] == 'A' ? "BBBB" : "AAAA");
        (exitCode, _, error) = await RunNodeAsync(folder, issuer, tampered);
        Assert.True(exitCode == 1, $"jose accepted a tampered token: {error}");
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunNodeAsync(string folder, string issuer, string token)
    {
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { "verify-token.mjs", issuer, token },
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output, await error);
    }
}
