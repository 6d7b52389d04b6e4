using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.ControlPlane.Api;

/// <summary>Page selection for list endpoints (<c>?page=1&amp;pageSize=50</c>); both optional.</summary>
public sealed record PageQuery(
    [property: Range(1, 1_000_000)] int Page = 1,
    [property: Range(1, PageQuery.MaxPageSize)] int PageSize = 50)
{
    public const int MaxPageSize = 200;

    public int Skip => (Page - 1) * PageSize;
}

/// <summary>One page of a list, with the total so clients can page.</summary>
public sealed record PagedResult<T>(IReadOnlyList<T> Items, int Page, int PageSize, int TotalCount);
