using Microsoft.EntityFrameworkCore;
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

public static class PagingExtensions
{
    /// <summary>Counts the query and reads the requested page of it (the query's ordering makes pages stable).</summary>
    public static async Task<PagedResult<TResponse>> ToPagedResultAsync<TEntity, TResponse>(
        this IOrderedQueryable<TEntity> query, PageQuery page, Func<TEntity, TResponse> map, CancellationToken cancellationToken)
    {
        var total = await query.CountAsync(cancellationToken);
        var items = await query.Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        return new PagedResult<TResponse>([.. items.Select(map)], page.Page, page.PageSize, total);
    }
}
