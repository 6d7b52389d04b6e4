using System.Globalization;
using AgentPlatform.Testing.ModelUpstream;

// Usage: dotnet run --project benchmarks/ScriptedUpstream -- --port 5099 --latency-ms 50 [--jitter-ms 10]
// Every answer waits latency-ms, plus a random 0 to jitter-ms when given.
var port = 0;
var latencyMs = 0;
var jitterMs = 0;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--port":
            port = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            break;
        case "--latency-ms":
            latencyMs = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            break;
        case "--jitter-ms":
            jitterMs = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            break;
        default:
            await Console.Error.WriteLineAsync($"Unknown option {args[i]}; expected --port N --latency-ms M --jitter-ms J.");
            return 2;
    }
}

using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopping.Cancel();
};
using var terminating = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM,
    context =>
    {
        context.Cancel = true;
        stopping.Cancel();
    });

await using var upstream = await ScriptedOpenAiUpstream.StartAsync(port, stopping.Token);
upstream.Latency = TimeSpan.FromMilliseconds(latencyMs);
upstream.LatencyJitter = TimeSpan.FromMilliseconds(jitterMs);
// A benchmark sends millions of requests; keeping them would only measure the garbage collector.
upstream.RecordCalls = false;
Console.WriteLine($"Scripted OpenAI upstream listening on {upstream.BaseAddress} (latency {latencyMs} ms + 0-{jitterMs} ms)");

try
{
    await Task.Delay(Timeout.Infinite, stopping.Token);
}
catch (OperationCanceledException)
{
    // Ctrl+C or SIGTERM: stop serving.
}

return 0;
