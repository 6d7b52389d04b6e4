using System.Diagnostics;

namespace AgentPlatform.AppHost;

/// <summary>How the platform's backing services run; see docs/decisions/0001-topologies-and-ports.md.</summary>
internal enum PlatformTopology
{
    /// <summary>Every service a process; SQLite, in-memory counters, local payloads, in-process events. No containers.</summary>
    Embedded,

    /// <summary>PostgreSQL, Redis, Kafka, MinIO and Temporal as containers, wired by connection strings.</summary>
    Distributed,
}

internal static class PlatformTopologySelector
{
    /// <summary>Command-line switch: <c>--infra embedded|containers|auto</c> (default auto).</summary>
    public const string InfraKey = "infra";

    /// <summary>Aspire's own setting for which container runtime to use (docker when unset).</summary>
    private const string ContainerRuntimeKey = "ASPIRE_CONTAINER_RUNTIME";

    /// <summary>
    /// Publishing (the manifest, deployments) always describes the distributed topology. Running honours
    /// <c>--infra</c>; <c>auto</c> picks containers only when a container runtime answers, so a machine
    /// without Docker never waits on a container that cannot start.
    /// </summary>
    public static PlatformTopology Select(IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return PlatformTopology.Distributed;
        }

        var requested = builder.Configuration[InfraKey]?.Trim().ToLowerInvariant();
        return requested switch
        {
            "embedded" => PlatformTopology.Embedded,
            "containers" => PlatformTopology.Distributed,
            null or "" or "auto" => ContainerRuntimeAnswers(builder.Configuration[ContainerRuntimeKey] ?? "docker") ? PlatformTopology.Distributed : PlatformTopology.Embedded,
            _ => throw new ArgumentException($"--{InfraKey} must be 'embedded', 'containers' or 'auto', not '{requested}'."),
        };
    }

    private static bool ContainerRuntimeAnswers(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }

            // Drain output so a chatty runtime cannot block on a full pipe.
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // The runtime's CLI is not installed.
            return false;
        }
    }
}
