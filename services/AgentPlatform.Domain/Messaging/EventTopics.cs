namespace AgentPlatform.Domain.Messaging;

public static class EventTopics
{
    public const string Prefix = "agentplatform.";

    /// <summary>Events a subscription could not handle after its retries; each can be replayed.</summary>
    public const string DeadLetters = Prefix + "dead-letters";

    /// <summary>Task lifecycle events (<c>task.submitted.v1</c>, <c>task.planned.v1</c> … <c>task.completed.v1</c>), keyed by task.</summary>
    public const string Tasks = Prefix + "tasks";

    /// <summary>Platform lifecycle events (startup, configuration changes of the platform itself).</summary>
    public const string Platform = Prefix + "platform";
}
