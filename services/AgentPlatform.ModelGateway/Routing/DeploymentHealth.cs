using System.Collections.Concurrent;

namespace AgentPlatform.ModelGateway.Routing;

/// <summary>
/// What this instance has seen of each upstream deployment (by <see cref="ModelDeploymentDefinition.Key"/>):
/// cooldowns after failures, calls in flight and a moving average of latency. Kept per process: every replica
/// learns on its own within a few calls, and no shared store sits on the hot path.
/// </summary>
public sealed class DeploymentHealth(TimeProvider timeProvider)
{
    // Weight of the newest sample in the latency average.
    private const double Smoothing = 0.2;

    private readonly ConcurrentDictionary<string, State> states = new(StringComparer.Ordinal);

    /// <summary>When the deployment may be called again, or null when it is not cooling down.</summary>
    public DateTimeOffset? CoolingDownUntil(ModelDeploymentDefinition deployment)
    {
        if (!states.TryGetValue(deployment.Key, out var state))
        {
            return null;
        }

        var until = new DateTimeOffset(Interlocked.Read(ref state.CoolUntilTicks), TimeSpan.Zero);
        return until > timeProvider.GetUtcNow() ? until : null;
    }

    /// <summary>Skips the deployment for its cooldown, or longer when the upstream asked for a longer pause.</summary>
    public void CoolDown(ModelDeploymentDefinition deployment, TimeSpan? retryAfter)
    {
        var pause = retryAfter is { } asked && asked > deployment.Cooldown ? asked : deployment.Cooldown;
        if (pause <= TimeSpan.Zero)
        {
            return;
        }

        var state = StateOf(deployment);
        var until = (timeProvider.GetUtcNow() + pause).UtcTicks;
        long current;
        do
        {
            current = Interlocked.Read(ref state.CoolUntilTicks);
            if (current >= until)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref state.CoolUntilTicks, until, current) != current);
    }

    /// <summary>A success ends the cooldown early (a retry got through).</summary>
    public void Recovered(ModelDeploymentDefinition deployment) => Interlocked.Exchange(ref StateOf(deployment).CoolUntilTicks, 0);

    public int InFlight(ModelDeploymentDefinition deployment) => states.TryGetValue(deployment.Key, out var state) ? Volatile.Read(ref state.InFlight) : 0;

    /// <summary>The moving average of successful calls' latency; null before the first one.</summary>
    public double? LatencyMilliseconds(ModelDeploymentDefinition deployment) =>
        states.TryGetValue(deployment.Key, out var state) && state.LatencySamples > 0 ? state.LatencyMilliseconds : null;

    /// <summary>Counts a call in flight until the returned scope is disposed.</summary>
    public InFlightScope Begin(ModelDeploymentDefinition deployment)
    {
        var state = StateOf(deployment);
        Interlocked.Increment(ref state.InFlight);
        return new InFlightScope(state);
    }

    public void RecordLatency(ModelDeploymentDefinition deployment, TimeSpan latency)
    {
        var state = StateOf(deployment);
        lock (state)
        {
            state.LatencyMilliseconds = state.LatencySamples == 0
                ? latency.TotalMilliseconds
                : (Smoothing * latency.TotalMilliseconds) + ((1 - Smoothing) * state.LatencyMilliseconds);
            state.LatencySamples++;
        }
    }

    private State StateOf(ModelDeploymentDefinition deployment) => states.GetOrAdd(deployment.Key, static _ => new State());

    public readonly struct InFlightScope : IDisposable
    {
        private readonly State state;

        internal InFlightScope(State state) => this.state = state;

        public void Dispose() => Interlocked.Decrement(ref state.InFlight);
    }

    internal sealed class State
    {
        public long CoolUntilTicks;
        public int InFlight;
        public double LatencyMilliseconds;
        public long LatencySamples;
    }
}
