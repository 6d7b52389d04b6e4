using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Tasks.Temporal;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Temporalio.Api.Common.V1;
using Temporalio.Converters;

namespace AgentPlatform.Worker.Tests.Temporal;

/// <summary>The claim check at Temporal's boundary: nothing above the threshold is encoded into workflow history.</summary>
public sealed class ClaimCheckPayloadCodecTests
{
    [Fact]
    public async Task Payloads_within_the_threshold_pass_unchanged_both_ways()
    {
        var codec = Codec(thresholdBytes: 1024);
        Payload[] payloads = [Json(new string('a', 1000)), Json("small")];

        var encoded = await codec.EncodeAsync(payloads);
        var decoded = await codec.DecodeAsync(encoded);

        Assert.Equal(payloads, encoded);
        Assert.Same(payloads[0], encoded.First());
        Assert.Equal(payloads, decoded);
    }

    [Fact]
    public async Task A_payload_above_the_threshold_is_refused_with_its_size_and_the_threshold()
    {
        var codec = Codec(thresholdBytes: 1024);

        var refused = await Assert.ThrowsAsync<PayloadTooLargeException>(() => codec.EncodeAsync([Json("small"), Json(new string('a', 1025))]));

        Assert.Equal(1027, refused.Size);
        Assert.Equal(1024, refused.Threshold);
        Assert.Contains("claim-check threshold", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_data_converter_with_the_codec_refuses_an_oversized_value_and_round_trips_a_small_one()
    {
        var converter = DataConverter.Default with { PayloadCodec = Codec(thresholdBytes: 32 * 1024) };
        var small = new TaskFlowOutcome(TaskStatuses.Completed);

        var payload = await converter.ToPayloadAsync(small);
        Assert.Equal(small, await converter.ToValueAsync<TaskFlowOutcome>(payload));
        await Assert.ThrowsAsync<PayloadTooLargeException>(() => converter.ToPayloadAsync(new string('x', 40_000)));
    }

    [Fact]
    public async Task The_threshold_is_the_claim_checks_default_of_32_KiB_unless_configured()
    {
        var codec = new ClaimCheckPayloadCodec(new ServiceCollection().AddOptions().BuildServiceProvider().GetRequiredService<IOptionsMonitor<ClaimCheckOptions>>());

        await codec.EncodeAsync([Payload(32 * 1024)]);
        await Assert.ThrowsAsync<PayloadTooLargeException>(() => codec.EncodeAsync([Payload((32 * 1024) + 1)]));
    }

    private static ClaimCheckPayloadCodec Codec(int thresholdBytes) => new(new ServiceCollection()
        .Configure<ClaimCheckOptions>(options => options.InlineThresholdBytes = thresholdBytes)
        .BuildServiceProvider()
        .GetRequiredService<IOptionsMonitor<ClaimCheckOptions>>());

    private static Payload Json(string value) => DataConverter.Default.PayloadConverter.ToPayload(value);

    private static Payload Payload(int bytes) => new() { Data = ByteString.CopyFrom(new byte[bytes]) };
}
