using System.ComponentModel.DataAnnotations;
using AgentPlatform.ControlPlane.Api;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentPlatform.ControlPlane.DeadLetters;

public sealed record DeadLetterResponse(
    Guid Id,
    Guid EventId,
    string Topic,
    string Type,
    string Subscription,
    string? Key,
    DateTime OccurredAt,
    int Attempts,
    string Error,
    DateTime FailedAt,
    DateTime? ReplayedAt,
    int ReplayCount,
    string Payload)
{
    public static DeadLetterResponse From(DeadLetter d) => new(
        d.Id, d.EventId, d.Topic, d.Type, d.Subscription, d.Key, d.OccurredAt, d.Attempts, d.Error, d.FailedAt, d.ReplayedAt, d.ReplayCount, d.Payload);
}

public sealed record DeadLetterFilter
{
    [StringLength(200)]
    public string? Subscription { get; init; }

    [StringLength(200)]
    public string? Topic { get; init; }

    [StringLength(200)]
    public string? Type { get; init; }

    public bool? Replayed { get; init; }

    public DateTime? FailedFrom { get; init; }

    public DateTime? FailedBefore { get; init; }
}

/// <summary>Events a subscription could not handle (operators): list them and replay one.</summary>
public static class DeadLettersApi
{
    public static IEndpointRouteBuilder MapDeadLettersApi(this IEndpointRouteBuilder endpoints)
    {
        var deadLetters = endpoints.MapGroup("/api/dead-letters").WithTags("Dead letters");
        deadLetters.MapGet("/", ListAsync).RequirePermission(Permissions.DeadLettersRead);
        deadLetters.MapGet("/{id:guid}", GetAsync).RequirePermission(Permissions.DeadLettersRead);
        deadLetters.MapPost("/{id:guid}/replay", ReplayAsync).RequirePermission(Permissions.DeadLettersReplay);
        return endpoints;
    }

    public static async Task<Ok<PagedResult<DeadLetterResponse>>> ListAsync(
        [AsParameters] PageQuery page, [AsParameters] DeadLetterFilter filter, DeadLetterService deadLetters, CancellationToken cancellationToken)
    {
        var result = await deadLetters.ListAsync(new DeadLetterQuery
        {
            Subscription = filter.Subscription,
            Topic = filter.Topic,
            Type = filter.Type,
            Replayed = filter.Replayed,
            FailedFrom = filter.FailedFrom?.ToUniversalTime(),
            FailedBefore = filter.FailedBefore?.ToUniversalTime(),
            Skip = page.Skip,
            Take = page.PageSize,
        }, cancellationToken);
        return TypedResults.Ok(new PagedResult<DeadLetterResponse>([.. result.Items.Select(DeadLetterResponse.From)], page.Page, page.PageSize, result.TotalCount));
    }

    public static async Task<Results<Ok<DeadLetterResponse>, ProblemHttpResult>> GetAsync(Guid id, DeadLetterService deadLetters, CancellationToken cancellationToken) =>
        await deadLetters.FindAsync(id, cancellationToken) is { } deadLetter
            ? TypedResults.Ok(DeadLetterResponse.From(deadLetter))
            : Problems.NotFound("The dead letter");

    public static async Task<Results<Accepted<DeadLetterResponse>, ProblemHttpResult>> ReplayAsync(Guid id, DeadLetterService deadLetters, CancellationToken cancellationToken) =>
        await deadLetters.ReplayAsync(id, cancellationToken) is { } deadLetter
            ? TypedResults.Accepted($"/api/dead-letters/{id}", DeadLetterResponse.From(deadLetter))
            : Problems.NotFound("The dead letter");
}
