using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Orchestration;
using Microsoft.Extensions.Options;
using Temporalio.Api.Common.V1;
using Temporalio.Converters;

namespace AgentPlatform.Worker.Tasks.Temporal;

/// <summary>
/// The claim check at Temporal's boundary: every payload the Worker's Temporal client encodes — workflow inputs and
/// results, activity inputs and outputs, signals, query answers, failure details — must fit the claim-check
/// threshold (<see cref="ClaimCheckOptions.InlineThresholdBytes"/>), or it is refused with
/// <see cref="PayloadTooLargeException"/>, so nothing large ever enters workflow history (Temporal itself warns at
/// 256 KB and fails at 2 MB). The platform's records carry large content as references, so a refusal is a bug to
/// fix, not data to shrink here. Payloads that fit pass unchanged, in both directions.
/// </summary>
public sealed class ClaimCheckPayloadCodec(IOptionsMonitor<ClaimCheckOptions> options) : IPayloadCodec
{
    public Task<IReadOnlyCollection<Payload>> EncodeAsync(IReadOnlyCollection<Payload> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        var threshold = options.CurrentValue.InlineThresholdBytes;
        foreach (var payload in payloads)
        {
            if (payload.Data.Length > threshold)
            {
                throw new PayloadTooLargeException("A Temporal payload", payload.Data.Length, threshold);
            }
        }

        return Task.FromResult(payloads);
    }

    public Task<IReadOnlyCollection<Payload>> DecodeAsync(IReadOnlyCollection<Payload> payloads) => Task.FromResult(payloads);
}
