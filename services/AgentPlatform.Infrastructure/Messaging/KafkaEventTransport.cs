using System.Globalization;
using System.Text;
using AgentPlatform.Domain.Messaging;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>
/// The distributed topology's bus. Each event is one Kafka message on the topic of the same name: key = the
/// envelope's partition key (so a key's events stay in order), value = the JSON payload, envelope fields and
/// headers as Kafka headers. Each subscription is a consumer group that commits an event only after it was
/// handled or dead-lettered.
/// </summary>
internal sealed class KafkaEventTransport(IOptions<KafkaEventBusOptions> options, ILogger<KafkaEventTransport> logger) : IEventTransport, IDisposable
{
    // The envelope fields; every other Kafka header is an envelope header.
    private const string IdHeader = "ap-event-id";
    private const string TypeHeader = "ap-event-type";
    private const string TenantHeader = "ap-tenant-id";
    private const string OccurredAtHeader = "ap-occurred-at";
    private const string KeyHeader = "ap-event-key";

    // The pause before a subscription retries an event it could neither handle nor dead-letter (store down).
    private static readonly TimeSpan RecoveryDelay = TimeSpan.FromSeconds(5);

    private readonly Lock producerGate = new();
    private IProducer<string, byte[]>? producer;

    public async Task<PublishResult> PublishAsync(IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken)
    {
        // Produce (not ProduceAsync) enqueues synchronously, so the whole batch is in flight at once and still
        // leaves in outbox order; the idempotent producer keeps that order per partition across retries.
        var producer = GetProducer();
        var deliveries = new List<Task>(events.Count);
        Exception? enqueueFailure = null;
        foreach (var envelope in events)
        {
            var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                producer.Produce(envelope.Topic, ToMessage(envelope), report =>
                {
                    if (report.Error.IsError || report.Status != PersistenceStatus.Persisted)
                    {
                        delivered.TrySetException(new KafkaException(report.Error));
                    }
                    else
                    {
                        delivered.TrySetResult();
                    }
                });
            }
            catch (KafkaException exception)
            {
                enqueueFailure = exception;
                break;
            }

            deliveries.Add(delivered.Task);
        }

        for (var published = 0; published < deliveries.Count; published++)
        {
            try
            {
                await deliveries[published].WaitAsync(cancellationToken);
            }
            catch (Exception exception)
            {
                ResetProducerIfFatal(exception);
                return new PublishResult(published, exception);
            }
        }

        ResetProducerIfFatal(enqueueFailure);
        return new PublishResult(deliveries.Count, enqueueFailure);
    }

    // Consume blocks, so each subscription gets a thread of its own rather than a thread-pool thread.
    public Task RunSubscriptionAsync(EventSubscription subscription, Func<EventEnvelope, CancellationToken, Task> handle, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Consume(subscription, handle, cancellationToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public void Dispose()
    {
        lock (producerGate)
        {
            producer?.Flush(TimeSpan.FromSeconds(5));
            producer?.Dispose();
            producer = null;
        }
    }

    private void Consume(EventSubscription subscription, Func<EventEnvelope, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        using var consumer = BuildConsumer(subscription);
        consumer.Subscribe(subscription.Topics);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                ConsumeResult<string, byte[]> result;
                try
                {
                    result = consumer.Consume(cancellationToken);
                }
                catch (ConsumeException exception) when (!exception.Error.IsFatal)
                {
                    // For example a subscribed topic that nobody has produced to yet; the consumer keeps going.
                    logger.LogWarning("Subscription {Subscription}: {Reason}", subscription.Name, exception.Error.Reason);
                    continue;
                }

                if (ReadEnvelope(result) is { } envelope)
                {
                    try
                    {
                        // A dedicated thread may wait for the handler: nothing else runs on it.
                        handle(envelope, cancellationToken).GetAwaiter().GetResult();
                    }
                    catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
                    {
                        // Neither handled nor dead-lettered (the store is likely down): rewind instead of
                        // committing, so the event is not skipped and the partition keeps its order.
                        logger.LogError(exception, "Subscription {Subscription} could not finish event {EventId}; retrying it in {Delay}", subscription.Name, envelope.Id, RecoveryDelay);
                        Rewind(consumer, result);
                        cancellationToken.WaitHandle.WaitOne(RecoveryDelay);
                        continue;
                    }
                }

                Commit(consumer, subscription, result);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping; an event being handled was not committed and is delivered again.
        }
        finally
        {
            consumer.Close();
        }
    }

    private void Commit(IConsumer<string, byte[]> consumer, EventSubscription subscription, ConsumeResult<string, byte[]> result)
    {
        try
        {
            consumer.Commit(result);
        }
        catch (KafkaException exception)
        {
            // Typically a rebalance took the partition away: its new owner receives the event again.
            logger.LogWarning("Subscription {Subscription} could not commit {Offset}: {Reason}", subscription.Name, result.TopicPartitionOffset, exception.Error.Reason);
        }
    }

    private void Rewind(IConsumer<string, byte[]> consumer, ConsumeResult<string, byte[]> result)
    {
        try
        {
            consumer.Seek(result.TopicPartitionOffset);
        }
        catch (KafkaException exception)
        {
            // The partition was revoked meanwhile; its next owner resumes from the last commit anyway.
            logger.LogWarning("Could not rewind to {Offset}: {Reason}", result.TopicPartitionOffset, exception.Error.Reason);
        }
    }

    private IProducer<string, byte[]> GetProducer()
    {
        lock (producerGate)
        {
            if (producer is not null)
            {
                return producer;
            }

            var config = new ProducerConfig(Settings())
            {
                EnableIdempotence = true,
                Acks = Acks.All,
                MessageTimeoutMs = (int)options.Value.MessageTimeout.TotalMilliseconds,
            };
            producer = new ProducerBuilder<string, byte[]>(config)
                .SetErrorHandler((_, error) => LogClientError("producer", error))
                .SetLogHandler((_, message) => LogClientMessage(message))
                .Build();
            return producer;
        }
    }

    // A fatal error (e.g. the idempotent producer lost its sequence) leaves the producer unusable: start afresh.
    private void ResetProducerIfFatal(Exception? exception)
    {
        if (exception is not KafkaException { Error.IsFatal: true })
        {
            return;
        }

        lock (producerGate)
        {
            producer?.Dispose();
            producer = null;
        }
    }

    private IConsumer<string, byte[]> BuildConsumer(EventSubscription subscription)
    {
        var config = new ConsumerConfig(Settings())
        {
            GroupId = subscription.Name,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        return new ConsumerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, error) => LogClientError(subscription.Name, error))
            .SetLogHandler((_, message) => LogClientMessage(message))
            .Build();
    }

    private Dictionary<string, string> Settings()
    {
        var settings = new Dictionary<string, string>(options.Value.Settings, StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = options.Value.BootstrapServers!,
            ["client.id"] = options.Value.ClientId!,
        };
        return settings;
    }

    private static Message<string, byte[]> ToMessage(EventEnvelope envelope)
    {
        var headers = new Headers
        {
            { IdHeader, Encoding.UTF8.GetBytes(envelope.Id.ToString()) },
            { TypeHeader, Encoding.UTF8.GetBytes(envelope.Type) },
            { TenantHeader, Encoding.UTF8.GetBytes(envelope.TenantId) },
            { OccurredAtHeader, Encoding.UTF8.GetBytes(envelope.OccurredAt.ToString("O", CultureInfo.InvariantCulture)) },
        };
        if (envelope.Key is not null)
        {
            headers.Add(KeyHeader, Encoding.UTF8.GetBytes(envelope.Key));
        }

        foreach (var (name, value) in envelope.Headers)
        {
            headers.Add(name, Encoding.UTF8.GetBytes(value));
        }

        return new Message<string, byte[]> { Key = envelope.PartitionKey, Value = Encoding.UTF8.GetBytes(envelope.Payload), Headers = headers };
    }

    private EventEnvelope? ReadEnvelope(ConsumeResult<string, byte[]> result)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in result.Message.Headers ?? [])
        {
            headers[header.Key] = Encoding.UTF8.GetString(header.GetValueBytes());
        }

        if (headers.Remove(IdHeader, out var id) && Guid.TryParse(id, out var eventId)
            && headers.Remove(TypeHeader, out var type)
            && headers.Remove(TenantHeader, out var tenantId) && Domain.Tenancy.TenantId.IsValid(tenantId)
            && headers.Remove(OccurredAtHeader, out var occurredAt)
            && DateTime.TryParse(occurredAt, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var occurred))
        {
            headers.Remove(KeyHeader, out var key);
            return new EventEnvelope
            {
                Id = eventId,
                Topic = result.Topic,
                Type = type,
                TenantId = tenantId,
                Key = key,
                OccurredAt = occurred.ToUniversalTime(),
                Payload = Encoding.UTF8.GetString(result.Message.Value ?? []),
                Headers = headers,
            };
        }

        // Not written by the outbox: without a tenant it cannot even be dead-lettered, so it is skipped.
        logger.LogError("Skipping {Offset}: the message is not an AgentPlatform event envelope", result.TopicPartitionOffset);
        return null;
    }

    private void LogClientError(string client, Error error) =>
        logger.Log(error.IsFatal ? LogLevel.Error : LogLevel.Warning, "Kafka {Client}: {Code} {Reason}", client, error.Code, error.Reason);

    private void LogClientMessage(LogMessage message) =>
        logger.Log(message.Level switch
        {
            <= SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        }, "Kafka {Client}: {Facility} {Message}", message.Name, message.Facility, message.Message);
}
