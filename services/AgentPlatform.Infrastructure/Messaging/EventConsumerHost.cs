using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>Runs every subscription registered with <c>AddEventConsumer</c> on the configured bus.</summary>
internal sealed class EventConsumerHost(
    IEnumerable<EventSubscription> subscriptions,
    IEventTransport transport,
    EventSubscriptionHandler handler,
    IServiceProviderIsService registeredServices,
    ILogger<EventConsumerHost> logger) : IHostedService, IDisposable
{
    // The pause before a subscription whose loop failed (e.g. a fatal Kafka error) starts again.
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource stopping = new();
    private Task running = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (transport is InProcessEventTransport && !registeredServices.IsService(typeof(OutboxDispatcher)))
        {
            logger.LogWarning("The in-process event bus delivers only to the process that dispatches the outbox, and this one does not: " +
                "its subscriptions ({Subscriptions}) receive nothing. Consume events in the Worker, or configure Kafka.",
                string.Join(", ", subscriptions.Select(s => s.Name)));
        }

        // Each loop attaches its subscription before its first await, i.e. before StartAsync returns: the
        // in-process bus relies on that to accept events as soon as the host has started.
        running = Task.WhenAll(subscriptions.Select(RunAsync).ToList());
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        try
        {
            await running.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Event subscriptions did not stop in time; their unfinished events are delivered again after a restart");
        }
    }

    public void Dispose() => stopping.Dispose();

    private async Task RunAsync(EventSubscription subscription)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await transport.RunSubscriptionAsync(subscription, (envelope, cancellationToken) => handler.HandleAsync(subscription, envelope, cancellationToken), stopping.Token);
            }
            catch (Exception exception)
            {
                if (stopping.IsCancellationRequested)
                {
                    // Whatever the loop was doing when it was told to stop, its event is delivered again.
                    logger.LogDebug(exception, "Subscription {Subscription} ended while stopping", subscription.Name);
                    return;
                }

                logger.LogError(exception, "Subscription {Subscription} stopped unexpectedly; restarting it in {Delay}", subscription.Name, RestartDelay);
                try
                {
                    await Task.Delay(RestartDelay, stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
