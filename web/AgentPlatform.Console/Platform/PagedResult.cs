namespace AgentPlatform.Console.Platform;

/// <summary>One page of a platform list (<c>?page=&amp;pageSize=</c>); every list API answers this envelope.</summary>
public sealed record PagedResult<T>(IReadOnlyList<T> Items, int Page, int PageSize, int TotalCount);
