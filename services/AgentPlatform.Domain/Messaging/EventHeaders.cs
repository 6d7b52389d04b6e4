namespace AgentPlatform.Domain.Messaging;

public static class EventHeaders
{
    /// <summary>W3C trace context of the operation that produced the event.</summary>
    public const string TraceParent = "traceparent";

    /// <summary>
    /// Set on a replayed dead letter: only the named subscription handles the event, every other
    /// subscription skips it (they handled the original already).
    /// </summary>
    public const string TargetSubscription = "x-target-subscription";

    /// <summary>On a dead letter: the topic and subscription that failed, and why.</summary>
    public const string DeadLetterTopic = "x-dead-letter-topic";
    public const string DeadLetterSubscription = "x-dead-letter-subscription";
    public const string DeadLetterError = "x-dead-letter-error";
}
