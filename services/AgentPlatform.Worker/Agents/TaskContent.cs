using System.Text;
using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Orchestration;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Agents;

/// <summary>
/// Turns text into <see cref="ClaimedContent"/> and back: inline up to the claim-check threshold, a payload-store
/// reference above it. Works for the current tenant of the scope it is resolved in.
/// </summary>
public sealed class TaskContent(IPayloadStore payloads, IOptionsMonitor<ClaimCheckOptions> claimCheck)
{
    // Inline content travels inside JSON records with other fields; keep well under the threshold.
    private const int Margin = 2048;

    public async Task<ClaimedContent> StoreAsync(string text, string contentType, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length <= InlineLimit)
        {
            return new ClaimedContent(text, null, bytes.Length, contentType);
        }

        using var stream = new MemoryStream(bytes, writable: false);
        var reference = await payloads.PutAsync(stream, contentType, cancellationToken: cancellationToken);
        return new ClaimedContent(null, reference.Id, reference.Size, contentType);
    }

    public async Task<string> ReadAsync(ClaimedContent content, CancellationToken cancellationToken)
    {
        if (content.Inline is { } inline)
        {
            return inline;
        }

        await using var payload = await payloads.OpenReadAsync(content.RefId!, cancellationToken)
            ?? throw new InvalidOperationException($"The payload {content.RefId} does not exist or has expired.");
        using var reader = new StreamReader(payload.Content, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    /// <summary>The largest content kept inline: the threshold less room for the record around it.</summary>
    public int InlineLimit => Math.Max(0, claimCheck.CurrentValue.InlineThresholdBytes - Margin);
}
