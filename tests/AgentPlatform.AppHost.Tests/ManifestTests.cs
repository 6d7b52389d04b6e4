using System.Diagnostics;
using System.Text.Json.Nodes;

namespace AgentPlatform.AppHost.Tests;

/// <summary>
/// <c>aspire-manifest.json</c> is generated from the AppHost's distributed topology
/// (<c>scripts/update-manifest.sh</c>); deployment tooling reads the committed copy, so it must not go stale.
/// </summary>
public sealed class ManifestTests
{
    [Fact]
    public async Task The_committed_manifest_matches_what_the_apphost_publishes()
    {
        var ct = TestContext.Current.CancellationToken;
        // ProjectPath is the AppHost folder, which sits at the repository root.
        var repositoryRoot = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Projects.AgentPlatform_AppHost.ProjectPath))!;
        var committedPath = Path.Combine(repositoryRoot, "aspire-manifest.json");
        var outputDirectory = Directory.CreateTempSubdirectory("agentplatform-manifest-").FullName;
        try
        {
            var generatedPath = Path.Combine(outputDirectory, "aspire-manifest.json");
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { "exec", Path.Combine(AppContext.BaseDirectory, "AgentPlatform.AppHost.dll"), "--publisher", "manifest", "--output-path", generatedPath },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["DOTNET_ENVIRONMENT"] = "Development" },
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync(ct);
            var error = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            Assert.True(process.ExitCode == 0, $"Publishing the manifest failed:\n{await output}\n{await error}");

            var committed = Normalize(JsonNode.Parse(await File.ReadAllTextAsync(committedPath, ct))!, repositoryRoot, repositoryRoot);
            var generated = Normalize(JsonNode.Parse(await File.ReadAllTextAsync(generatedPath, ct))!, outputDirectory, repositoryRoot);
            Assert.True(
                JsonNode.DeepEquals(committed, generated),
                $"aspire-manifest.json is stale: run scripts/update-manifest.sh and commit the result.\nGenerated:\n{generated.ToJsonString()}");
        }
        finally
        {
            Directory.Delete(outputDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task The_control_plane_and_the_model_gateway_share_the_key_encryption_key()
    {
        var repositoryRoot = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Projects.AgentPlatform_AppHost.ProjectPath))!;
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(repositoryRoot, "aspire-manifest.json"), TestContext.Current.CancellationToken))!;

        // The model gateway decrypts the provider credentials the control plane encrypts.
        foreach (var service in new[] { "controlplane", "modelgateway" })
        {
            Assert.Equal(
                "{identity-key-encryption-key.value}",
                manifest["resources"]![service]!["env"]!["Secrets__KeyEncryptionKey"]!.GetValue<string>());
        }
    }

    /// <summary>Project paths are relative to the manifest's own folder; re-base them on the repository root.</summary>
    private static JsonNode Normalize(JsonNode manifest, string manifestDirectory, string repositoryRoot)
    {
        foreach (var (_, resource) in manifest["resources"]!.AsObject())
        {
            if (resource?["path"] is JsonValue path)
            {
                var absolute = Path.GetFullPath(Path.Combine(manifestDirectory, path.GetValue<string>()));
                resource["path"] = Path.GetRelativePath(repositoryRoot, absolute).Replace('\\', '/');
            }
        }

        return manifest;
    }
}
