namespace AgentPlatform.Orchestration;

/// <summary>The sub-agents every tenant has; ids are stable, versions move with the platform.</summary>
public static class BuiltInSubAgents
{
    /// <summary>Searches the tenant's knowledge documents and answers with citations.</summary>
    public const string Retrieval = "retrieval";

    /// <summary>Calls tools through the Tool Gateway (HTTP fetch, calculator, sandboxed code).</summary>
    public const string ToolExecution = "tool-execution";

    /// <summary>Structured reasoning over the inputs and the other sub-agents' outputs; the router's fallback.</summary>
    public const string Analysis = "analysis";

    public static IReadOnlyList<string> All { get; } = [Retrieval, ToolExecution, Analysis];
}
