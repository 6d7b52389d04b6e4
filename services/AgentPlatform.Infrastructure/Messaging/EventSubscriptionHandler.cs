using AgentPlatform.Domain.Messaging;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>
/// What happens to one event in one subscription, whichever bus delivered it: replays aimed at another
/// subscription are skipped; otherwise the subscription's consumer runs in a scope acting for the event's tenant,
/// with a few retries, and an event that still fails is dead-lettered. Returning means the event may be
/// acknowledged; an exception (the store is down) means it must be delivered again.
/// </summary>
internal sealed class EventSubscriptionHandler(
    IServiceScopeFactory scopeFactory,
    IOptions<EventConsumerOptions> options,
    EventBusTelemetry telemetry,
    TimeProvider timeProvider,
    ILogger<EventSubscriptionHandler> logger)
{
    // The dead letter's error column holds 4000 characters; the header stays short enough for any bus.
    private const int MaxStoredErrorLength = 4000;
    private const int MaxHeaderErrorLength = 500;

    public async Task HandleAsync(EventSubscription subscription, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.Headers.TryGetValue(EventHeaders.TargetSubscription, out var target) && target != subscription.Name)
        {
            telemetry.Consumed(subscription, "skipped");
            return;
        }

        using var activity = EventBusTelemetry.StartProcessActivity(subscription, envelope);
        using var logScope = logger.BeginScope(new Dictionary<string, object>
        {
            [PlatformTags.TenantId] = envelope.TenantId,
            ["event_id"] = envelope.Id,
            ["subscription"] = subscription.Name,
        });

        var maxAttempts = options.Value.MaxAttempts;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await InvokeConsumerAsync(subscription, envelope, cancellationToken);
                telemetry.Consumed(subscription, "handled");
                return;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                telemetry.HandlerFailed(subscription);
                if (attempt >= maxAttempts)
                {
                    logger.LogError(exception, "Subscription {Subscription} failed to handle {EventType} event {EventId} {Attempts} times; dead-lettering it",
                        subscription.Name, envelope.Type, envelope.Id, attempt);
                    activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, exception.Message);
                    await DeadLetterAsync(subscription, envelope, attempt, exception, cancellationToken);
                    telemetry.Consumed(subscription, "dead_lettered");
                    return;
                }

                logger.LogWarning(exception, "Subscription {Subscription} failed to handle {EventType} event {EventId} (attempt {Attempt} of {MaxAttempts})",
                    subscription.Name, envelope.Type, envelope.Id, attempt, maxAttempts);
                // A pause in wall-clock time: it spaces out retries, it records nothing.
                await Task.Delay(options.Value.RetryDelay * Math.Pow(2, attempt - 1), cancellationToken);
            }
        }
    }

    private async Task InvokeConsumerAsync(EventSubscription subscription, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(envelope.TenantId);
        var consumer = scope.ServiceProvider.GetRequiredKeyedService<IEventConsumer>(subscription.Name);
        await consumer.HandleAsync(envelope, cancellationToken);
    }

    /// <summary>
    /// Records the failure and republishes the event on the dead-letter topic, in one transaction: the row is
    /// what operators list and replay, the topic is what alerting and other buses see.
    /// </summary>
    private async Task DeadLetterAsync(EventSubscription subscription, EventEnvelope envelope, int attempts, Exception exception, CancellationToken cancellationToken)
    {
        var error = $"{exception.GetType().FullName}: {exception.Message}";
        for (var conflicts = 0; ; conflicts++)
        {
            await using var scope = scopeFactory.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(envelope.TenantId);
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            var now = timeProvider.GetUtcNow().UtcDateTime;

            var deadLetter = await db.DeadLetters.SingleOrDefaultAsync(d => d.EventId == envelope.Id && d.Subscription == subscription.Name, cancellationToken);
            if (deadLetter is null)
            {
                deadLetter = new DeadLetter
                {
                    Id = Guid.CreateVersion7(now),
                    TenantId = envelope.TenantId,
                    EventId = envelope.Id,
                    Topic = envelope.Topic,
                    Type = envelope.Type,
                    Subscription = subscription.Name,
                    Key = envelope.Key,
                    OccurredAt = envelope.OccurredAt,
                    Payload = envelope.Payload,
                    Headers = EventHeaderSerializer.Serialize(envelope.Headers),
                    Error = error,
                };
                db.DeadLetters.Add(deadLetter);
            }

            deadLetter.Attempts += attempts;
            deadLetter.Error = Truncate(error, MaxStoredErrorLength);
            deadLetter.FailedAt = now;

            var headers = envelope.Headers
                .Where(header => header.Key != EventHeaders.TargetSubscription)
                .ToDictionary(StringComparer.Ordinal);
            headers[EventHeaders.DeadLetterTopic] = envelope.Topic;
            headers[EventHeaders.DeadLetterSubscription] = subscription.Name;
            headers[EventHeaders.DeadLetterError] = Truncate(error, MaxHeaderErrorLength);
            db.OutboxMessages.Add(OutboxMessage.From(envelope with { Topic = EventTopics.DeadLetters, Headers = headers }));

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException) when (conflicts == 0)
            {
                // Another instance of this subscription dead-lettered the same event meanwhile (a redelivery
                // during a rebalance): the unique (event, subscription) index refused the insert; update theirs.
            }
        }
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
