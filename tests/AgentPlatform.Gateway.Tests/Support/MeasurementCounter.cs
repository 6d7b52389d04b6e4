using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Gateway.Tests.Support;

/// <summary>Sums one counter of one gateway's meters (other hosts in the test process are ignored).</summary>
public sealed class MeasurementCounter : IDisposable
{
    private readonly MeterListener listener = new();
    private long total;

    public MeasurementCounter(IServiceProvider services, string instrumentName, KeyValuePair<string, string>? tag = null)
    {
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, meterListener) =>
        {
            if (instrument.Name == instrumentName && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                meterListener.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tag is { } wanted && !Matches(tags, wanted))
            {
                return;
            }

            Interlocked.Add(ref total, value);
        });
        listener.Start();
    }

    public long Total => Interlocked.Read(ref total);

    public async Task WaitForAsync(long expected)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (Total < expected)
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    public void Dispose() => listener.Dispose();

    private static bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags, KeyValuePair<string, string> wanted)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == wanted.Key && (string?)tag.Value == wanted.Value)
            {
                return true;
            }
        }

        return false;
    }
}
