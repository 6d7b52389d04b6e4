using System.Threading.Channels;
using AgentPlatform.Domain.Messaging;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>
/// The embedded topology's bus: the outbox dispatcher and every consumer run in one process (the Worker), and
/// each subscription has a bounded queue. A publish completes only once every subscription of the topic has
/// handled the event or dead-lettered it, so the dispatcher marks an event dispatched only when nothing is left
/// in memory: a crash at any moment loses no event, it only repeats the ones not yet marked.
/// </summary>
/// <remarks>
/// Only subscriptions registered in this process receive events, and a topic without one here drops its events
/// (unlike Kafka, nothing keeps them for a subscription added later). A subscription that is not running (its
/// host has not started or is stopping) makes every publish to its topics fail, so the events stay in the outbox.
/// </remarks>
internal sealed class InProcessEventTransport(IEnumerable<EventSubscription> subscriptions) : IEventTransport
{
    // Room for more than a dispatcher batch, so publishing rarely waits; a slow subscription still slows the
    // dispatcher down instead of letting memory grow without bound.
    private const int Capacity = 256;

    private readonly Dictionary<string, Subscriber> subscribers = subscriptions.ToDictionary(s => s.Name, s => new Subscriber(s), StringComparer.Ordinal);

    public async Task<PublishResult> PublishAsync(IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken)
    {
        // Offer every event before waiting for any, so the subscriptions work in parallel; each queue still
        // receives the events in order.
        var completions = new List<Task>(events.Count);
        Exception? offerFailure = null;
        foreach (var envelope in events)
        {
            try
            {
                completions.Add(await OfferAsync(envelope, cancellationToken));
            }
            catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException)
            {
                offerFailure = exception;
                break;
            }
        }

        for (var published = 0; published < completions.Count; published++)
        {
            try
            {
                await completions[published].WaitAsync(cancellationToken);
            }
            catch (Exception exception)
            {
                return new PublishResult(published, exception);
            }
        }

        return new PublishResult(completions.Count, offerFailure);
    }

    public async Task RunSubscriptionAsync(EventSubscription subscription, Func<EventEnvelope, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        var subscriber = subscribers[subscription.Name];
        var queue = subscriber.Open();
        try
        {
            await foreach (var delivery in queue.Reader.ReadAllAsync(cancellationToken))
            {
                if (delivery.Abandoned)
                {
                    // The dispatcher gave up waiting for this publish and will publish the event again.
                    delivery.Completion.TrySetCanceled(CancellationToken.None);
                    continue;
                }

                try
                {
                    await handle(delivery.Envelope, cancellationToken);
                    delivery.Completion.TrySetResult();
                }
                catch (Exception exception)
                {
                    // Handling failed even after the handler's retries (or was cut short by stopping): the publish
                    // fails and the dispatcher publishes the event again later.
                    delivery.Completion.TrySetException(exception);
                    if (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the deliveries still queued fail below, so their events stay in the outbox.
        }
        finally
        {
            subscriber.Close(queue);
        }
    }

    private async Task<Task> OfferAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        var completions = new List<Task>();
        foreach (var subscriber in subscribers.Values.Where(s => s.Subscription.Topics.Contains(envelope.Topic)))
        {
            completions.Add(await subscriber.OfferAsync(envelope, cancellationToken));
        }

        return Task.WhenAll(completions);
    }

    private sealed class Delivery(EventEnvelope envelope, CancellationToken publisherCancellation)
    {
        public EventEnvelope Envelope { get; } = envelope;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Abandoned => publisherCancellation.IsCancellationRequested;
    }

    private sealed class Subscriber(EventSubscription subscription)
    {
        private readonly Lock gate = new();
        private Channel<Delivery>? queue;

        public EventSubscription Subscription { get; } = subscription;

        public Channel<Delivery> Open()
        {
            lock (gate)
            {
                if (queue is not null)
                {
                    throw new InvalidOperationException($"The in-process subscription '{Subscription.Name}' is running already.");
                }

                queue = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
                return queue;
            }
        }

        public void Close(Channel<Delivery> closing)
        {
            lock (gate)
            {
                queue = null;
            }

            // A writer racing with this either finds the queue completed (and fails its publish) or its delivery
            // is failed here; none is left waiting for a reader that is gone.
            closing.Writer.TryComplete();
            while (closing.Reader.TryRead(out var delivery))
            {
                delivery.Completion.TrySetException(NotRunning());
            }
        }

        public async Task<Task> OfferAsync(EventEnvelope envelope, CancellationToken cancellationToken)
        {
            Channel<Delivery>? current;
            lock (gate)
            {
                current = queue;
            }

            if (current is null)
            {
                throw NotRunning();
            }

            var delivery = new Delivery(envelope, cancellationToken);
            try
            {
                await current.Writer.WriteAsync(delivery, cancellationToken);
            }
            catch (ChannelClosedException)
            {
                throw NotRunning();
            }

            return delivery.Completion.Task;
        }

        private InvalidOperationException NotRunning() =>
            new($"The in-process subscription '{Subscription.Name}' is not running (its host has not started or is stopping).");
    }
}
