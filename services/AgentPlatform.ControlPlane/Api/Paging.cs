using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.ControlPlane.Api;

/// <summary>Page selection for list endpoints (<c>?page=1&amp;pageSize=50</c>).</summary>
public sealed record PageQuery
{
    public const int MaxPageSize = 200;

    [Range(1, 1_000_000)]
    public int Page { get; init; } = 1;

    [Range(1, MaxPageSize)]
    public int PageSize { get; init; } = 50;

    public int Skip => (Page - 1) * PageSize;
}

/// <summary>One page of a list, with the total so clients can page.</summary>
public sealed record PagedResult<T>(IReadOnlyList<T> Items, int Page, int PageSize, int TotalCount);
