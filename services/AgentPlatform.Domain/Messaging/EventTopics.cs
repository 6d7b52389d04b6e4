namespace AgentPlatform.Domain.Messaging;

public static class EventTopics
{
    public const string Prefix = "agentplatform.";

    /// <summary>Events a subscription could not handle after its retries; each can be replayed.</summary>
    public const string DeadLetters = Prefix + "dead-letters";

    /// <summary>Platform lifecycle events (startup, configuration changes of the platform itself).</summary>
    public const string Platform = Prefix + "platform";
}
