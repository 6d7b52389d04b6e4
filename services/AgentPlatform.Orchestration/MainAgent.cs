namespace AgentPlatform.Orchestration;

/// <summary>The Main Agent: the definition and version that plans, aggregates and answers every task.</summary>
public static class MainAgent
{
    /// <summary>The <c>main_agent_id</c> of the tasks it runs (name and version).</summary>
    public const string Id = "main-agent@1";
}
