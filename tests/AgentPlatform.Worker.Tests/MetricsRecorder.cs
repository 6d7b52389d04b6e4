using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AgentPlatform.Worker.Tests;

/// <summary>Collects the measurements of one meter while it is alive, for asserting on what was recorded.</summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> measurements = new();

    public MetricsRecorder(string meterName)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == meterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        listener.Start();
    }

    /// <summary>The sum of <paramref name="instrument"/>'s measurements that carry the tag.</summary>
    public double Sum(string instrument, (string Key, string Value) tag) =>
        measurements.Where(m => m.Instrument == instrument && m.Tags.Any(t => t.Key == tag.Key && Equals(t.Value, tag.Value))).Sum(m => m.Value);

    public void Dispose() => listener.Dispose();
}
