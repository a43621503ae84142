using System.Collections.Concurrent;
using Junction.Canonical;
using Junction.Dispatch;

namespace Junction.Tests.Dispatch.Engine;

/// <summary>
/// A connector that answers from a script (per call, in order; the last answer repeats) and records
/// every call. It stands in for the real connectors, which are tested against their fake APIs.
/// </summary>
public sealed class ScriptedConnector(DestinationConfig config) : IDestinationConnector
{
    private readonly ConcurrentQueue<Func<DeliveryWork, DeliveryResult>> _script = new();
    private Func<DeliveryWork, DeliveryResult> _default = w => DeliveryResult.Ok([$"POST /contacts {w.PersonId}"]);

    public DestinationConfig Config { get; } = config;

    public ConcurrentQueue<DeliveryWork> Calls { get; } = new();

    /// <summary>Runs before each answer (to hold a call open, or to move a fake clock while "on the wire").</summary>
    public Func<DeliveryWork, Task>? During { get; set; }

    public ScriptedConnector Then(params DeliveryResult[] results)
    {
        foreach (var r in results) _script.Enqueue(_ => r);
        return this;
    }

    public ScriptedConnector Always(DeliveryResult result)
    {
        _default = _ => result;
        return this;
    }

    public ScriptedConnector Always(Func<DeliveryWork, DeliveryResult> answer)
    {
        _default = answer;
        return this;
    }

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        Calls.Enqueue(work);
        if (During is { } during) await during(work);
        return _script.TryDequeue(out var next) ? next(work) : _default(work);
    }

    public static DeliveryResult Transient(int status = 503, string error = "Service Unavailable") =>
        new() { Outcome = DeliveryOutcome.Transient, Status = status, Error = error, Requests = ["POST /v3/contacts"] };

    public static DeliveryResult Permanent(int status = 400, string error = "Member In Compliance State") =>
        new() { Outcome = DeliveryOutcome.Permanent, Status = status, Error = error, Requests = ["PUT /3.0/lists/l1/members/abc {\"status\":\"subscribed\"}"] };

    public static DeliveryResult RateLimited(TimeSpan? retryAfter) =>
        new() { Outcome = DeliveryOutcome.RateLimited, Status = 429, Error = "Too Many Requests", RetryAfter = retryAfter };
}

/// <summary>
/// A connector whose API takes many events per request (<see cref="IBatchConnector"/>): each batch call
/// is recorded whole, and each event is answered by <see cref="Answer"/>.
/// </summary>
public sealed class ScriptedBatchConnector(DestinationConfig config, int maxBatch = 100) : IBatchConnector
{
    public DestinationConfig Config { get; } = config;

    public int MaxBatch { get; } = maxBatch;

    /// <summary>Every DeliverBatchAsync call, with the events it carried.</summary>
    public ConcurrentQueue<IReadOnlyList<DeliveryWork>> Batches { get; } = new();

    /// <summary>Every single DeliverAsync call.</summary>
    public ConcurrentQueue<DeliveryWork> Singles { get; } = new();

    public Func<DeliveryWork, DeliveryResult> Answer { get; set; } = w => DeliveryResult.Ok([$"POST /import {w.Event?.Id}"]);

    public Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        Singles.Enqueue(work);
        return Task.FromResult(Answer(work));
    }

    public Task<IReadOnlyList<DeliveryResult>> DeliverBatchAsync(IReadOnlyList<DeliveryWork> work, CancellationToken cancellationToken)
    {
        Batches.Enqueue(work);
        return Task.FromResult<IReadOnlyList<DeliveryResult>>([.. work.Select(Answer)]);
    }
}

/// <summary>Drafts and configs built directly (the planner and the config loader are tested elsewhere).</summary>
public static class Drafts
{
    public static DestinationConfig Destination(string id, string type = DestinationTypes.Kit, double rateLimit = 1000,
        TimeSpan? maxAge = null, TimeSpan? baseDelay = null, DeliveryBatch? batch = null) => new()
    {
        Batch = batch,
        Id = id,
        Type = type,
        Traits = DestinationTypes.TraitsOf(type),
        BaseUrl = new Uri("http://127.0.0.1:1/"),
        RateLimit = rateLimit,
        RetryMaxAge = maxAge ?? TimeSpan.FromHours(24),
        RetryBaseDelay = baseDelay ?? TimeSpan.FromSeconds(1),
    };

    public static DesiredContact Contact(string person, params string[] tags) => new()
    {
        Email = $"{person}@example.com",
        Tags = [.. tags.Order(StringComparer.Ordinal)],
        Subscribed = true,
    };

    public static DeliveryDraft State(string destination, string person, params string[] tags) => new()
    {
        Destination = destination,
        PersonId = person,
        Kind = DeliveryKinds.State,
        Payload = DeliveryPlanner.SerializeDesired(Contact(person, tags)),
        TraceId = "trace-" + person,
    };

    public static DeliveryDraft Event(string destination, string person, string eventId, string type = EventTypes.OrderPaid) => new()
    {
        Destination = destination,
        PersonId = person,
        Kind = DeliveryKinds.Event,
        EventId = eventId,
        Payload = Junction.Normalize.CanonicalJson.Serialize(new CanonicalEvent
        {
            Id = eventId,
            RawId = "raw-" + eventId,
            Source = "stripe-main",
            Provider = "stripe",
            Type = type,
            OccurredAt = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero),
            TraceId = "trace-" + eventId,
            Subject = new Subject { Email = $"{person}@example.com" },
        }),
        TraceId = "trace-" + eventId,
    };
}
