using Junction.Canonical;
using Junction.Identity;
using Junction.State;

namespace Junction.Dispatch;

// The seam between the stages that decide (project, plan) and the stage that delivers
// (dispatch). The projector hands each person change to an IDeliveryPlanner and writes the
// drafts it returns in the same transaction as the new person state (transactional outbox); the
// dispatcher claims them and calls an IDestinationConnector.

/// <summary>
/// What kind of destination a type is, declared by its integration (<c>src/Junction/Integrations/</c>):
/// the planner, the audit and the dispatcher read these instead of naming destination types.
/// </summary>
public sealed record DestinationTraits
{
    /// <summary>An outgoing webhook or an analytics tool: it receives events, no person state.</summary>
    public static DestinationTraits EventsOnly { get; } = new() { Events = true };

    /// <summary>An email platform or a CRM: it holds each person as a contact converged to <see cref="DesiredContact"/>.</summary>
    public static DestinationTraits Contacts { get; } = new() { State = true };

    /// <summary>A course platform: it holds enrollments only.</summary>
    public static DestinationTraits Enrollments { get; } = new() { State = true, EnrollmentsOnly = true };

    /// <summary>Converges each person to a <see cref="DesiredContact"/>; read back by the audit.</summary>
    public bool State { get; init; }

    /// <summary>
    /// Holds enrollments only (a course platform): tags and consent are not its business (leaving them
    /// out keeps an unsubscribe from queuing a no-op sync), and a person without a course is never created there.
    /// </summary>
    public bool EnrollmentsOnly { get; init; }

    /// <summary>
    /// Its connector takes <see cref="DeliveryKinds.Erase"/> deliveries (R8.4): forgetting a person queues one
    /// there. A state destination without it is named in the forget answer as one to clean by hand.
    /// </summary>
    public bool Erases { get; init; }

    /// <summary>Receives canonical events: an event destination, or a state destination that also records orders.</summary>
    public bool Events { get; init; }

    /// <summary>The event types sent when the destination lists no <c>events:</c>; empty means all.</summary>
    public IReadOnlyList<string> DefaultEvents { get; init; } = [];

    /// <summary>Analytics: a test-mode event (a sandbox purchase) is never sent, so it never counts as revenue.</summary>
    public bool SkipsTestEvents { get; init; }

    /// <summary>
    /// An event destination whose events are batched unless config says <c>delivery: realtime</c>
    /// (analytics: nobody reads a funnel by the second, and one request per event wastes its rate limit).
    /// </summary>
    public bool BatchByDefault { get; init; }
}

/// <summary>
/// <c>delivery: batch</c> with <c>batch: { max, every }</c> (R5.6): an event destination's events wait
/// until <see cref="Max"/> are due or the oldest has waited <see cref="Every"/>, then go out together.
/// Purchases, refunds and access changes never wait (<see cref="IsRealTime"/>).
/// </summary>
public sealed record DeliveryBatch
{
    /// <summary>When no <c>max</c> is set and the API declares no limit of its own (GA4's Measurement Protocol takes 25 events).</summary>
    public const int DefaultMax = 25;

    public static TimeSpan DefaultEvery { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Events per batch (at most the API's own limit per request).</summary>
    public required int Max { get; init; }

    /// <summary>Longest an event waits for its batch to fill.</summary>
    public required TimeSpan Every { get; init; }

    // Money and access are what a creator watches live (a sale in the dashboard, a revoked course);
    // these go out at once even on a batched destination.
    private static readonly HashSet<string> RealTime = new(StringComparer.Ordinal)
    {
        EventTypes.OrderPaid, EventTypes.OrderRefunded, EventTypes.AccessGranted, EventTypes.AccessRevoked,
    };

    /// <summary>Whether an event of this type is always sent at once, batching or not.</summary>
    public static bool IsRealTime(string eventType) => RealTime.Contains(eventType);
}

/// <summary><c>destinations: &lt;id&gt;:</c> — validated by ConfigLoader.</summary>
public sealed record DestinationConfig
{
    public required string Id { get; init; }

    /// <summary>The <c>type:</c> in config, one integration's destination.</summary>
    public required string Type { get; init; }

    /// <summary>What the type's integration declares it to be.</summary>
    public required DestinationTraits Traits { get; init; }

    /// <summary>The real API by default; overridable for tests and sandboxes.</summary>
    public required Uri BaseUrl { get; init; }

    /// <summary>Already expanded from the environment (api_key, api_secret, signing secret …). Never logged.</summary>
    public IReadOnlyDictionary<string, string> Credentials { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Requests per second; defaults from the API's documented limit.</summary>
    public required double RateLimit { get; init; }

    /// <summary>How long transient failures are retried before the task goes to the DLQ (default 24 h).</summary>
    public TimeSpan RetryMaxAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>First backoff step (exponential with full jitter after it).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Vocabulary tag → the destination's tag name (state destinations). Unmapped tags are not sent.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Person field (email, first_name, last_name, buyer_status, ltv …) → destination field name.</summary>
    public IReadOnlyDictionary<string, string> Fields { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Product (from <c>products:</c>) → the course platform's course id while the entitlement is active.</summary>
    public IReadOnlyDictionary<string, string> Courses { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Event destinations: canonical event types sent (empty = all).</summary>
    public IReadOnlyList<string> Events { get; init; } = [];

    /// <summary>Type-specific keys (an audience's list id, an analytics measurement id …), as the integration declares them.</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary><c>delivery: batch</c>: how events wait for a batch; null = <c>delivery: realtime</c>, each event at once.</summary>
    public DeliveryBatch? Batch { get; init; }

    public bool IsState => Traits.State;
}

/// <summary>What a person should look like in one state destination. Lists are sorted (value equality by content).</summary>
public sealed record DesiredContact
{
    public required string Email { get; init; }

    /// <summary>Destination field name → value (already mapped through <see cref="DestinationConfig.Fields"/>), sorted by key.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields { get; init; } = [];

    /// <summary>Destination tag names, sorted.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Destination course ids, sorted.</summary>
    public IReadOnlyList<string> Courses { get; init; } = [];

    /// <summary>False after an unsubscribe or spam complaint (or when consent was never given).</summary>
    public required bool Subscribed { get; init; }

    /// <summary>
    /// The person withdrew email consent (unsubscribe, spam complaint), as opposed to never having
    /// given it: a subscription the destination holds on its own (a form there, an import) must be
    /// cancelled too. Never true while <see cref="Subscribed"/> is.
    /// </summary>
    public bool OptedOut { get; init; }

    /// <summary>
    /// Consent given under double opt-in and not yet confirmed by the email platform: the contact is
    /// held as pending (Mailchimp <c>pending</c>, Kit <c>inactive</c>), not mailed. Never true while
    /// <see cref="Subscribed"/> or <see cref="OptedOut"/> is.
    /// </summary>
    public bool Pending { get; init; }

    public bool Equivalent(DesiredContact? other) =>
        other is not null && Email == other.Email && Subscribed == other.Subscribed && OptedOut == other.OptedOut && Pending == other.Pending
        && Fields.SequenceEqual(other.Fields) && Tags.SequenceEqual(other.Tags) && Courses.SequenceEqual(other.Courses);
}

/// <summary>One person's change, as the projector hands it to planning.</summary>
public sealed record PersonChange
{
    public required string PersonId { get; init; }
    public required PersonIdentity Identity { get; init; }

    /// <summary>The state before this change; null for a new person.</summary>
    public PersonState? Before { get; init; }

    public required PersonState After { get; init; }

    /// <summary>The canonical events this change folded in (empty for a timer or an override).</summary>
    public IReadOnlyList<CanonicalEvent> NewEvents { get; init; } = [];

    public string? TraceId { get; init; }
}

public static class DeliveryKinds
{
    /// <summary>Converge the destination to <see cref="DesiredContact"/> (coalescable per person).</summary>
    public const string State = "state";

    /// <summary>Send one canonical event (at least once, with a stable idempotency key).</summary>
    public const string Event = "event";

    /// <summary>
    /// Delete or anonymize a forgotten person's contact (R8.4, docs/data-rights.md). Its event id is the
    /// erasure id; its payload holds the addresses sealed with the erasure's key, opened at claim time.
    /// </summary>
    public const string Erase = "erase";
}

/// <summary>Kind=erase: the contact to delete, by every address the forgotten person had.</summary>
public sealed record ContactErasure
{
    public required string ErasureId { get; init; }

    /// <summary>Normalized addresses, sorted. Never logged or stored in the clear.</summary>
    public required IReadOnlyList<string> Emails { get; init; }
}

/// <summary>A task to write to the outbox in the same transaction as the state change.</summary>
public sealed record DeliveryDraft
{
    public required string Destination { get; init; }
    public required string PersonId { get; init; }

    /// <summary><see cref="DeliveryKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>Kind=event: the canonical event id (with the destination, the idempotency key).</summary>
    public string? EventId { get; init; }

    /// <summary>Kind=state: the serialized <see cref="DesiredContact"/>; kind=event: the canonical event JSON.</summary>
    public required string Payload { get; init; }

    public string? TraceId { get; init; }
}

/// <summary>Decides what to deliver for a person change. Pure: no I/O.</summary>
public interface IDeliveryPlanner
{
    IReadOnlyList<DeliveryDraft> Plan(PersonChange change);
}

/// <summary>A claimed task, as the dispatcher hands it to a connector.</summary>
public sealed record DeliveryWork
{
    public required long TaskId { get; init; }
    public required string PersonId { get; init; }
    public required string Kind { get; init; }

    /// <summary>Kind=state: what the person should look like now.</summary>
    public DesiredContact? Desired { get; init; }

    /// <summary>Kind=state: what was last synced successfully (null = never synced): the connector writes only the differences.</summary>
    public DesiredContact? LastSynced { get; init; }

    /// <summary>Kind=event.</summary>
    public CanonicalEvent? Event { get; init; }

    /// <summary>Kind=erase: a state destination that cannot erase answers <see cref="DeliveryOutcome.Permanent"/>, so the DLQ shows it.</summary>
    public ContactErasure? Erase { get; init; }

    /// <summary>Stable across retries and replays (Standard Webhooks webhook-id, GA4 transaction id basis).</summary>
    public required string IdempotencyKey { get; init; }

    public string? TraceId { get; init; }
    public int Attempt { get; init; }
}

public enum DeliveryOutcome
{
    Succeeded,

    /// <summary>429 or the API's own limit signal: not a failure of the task; wait <see cref="DeliveryResult.RetryAfter"/>.</summary>
    RateLimited,

    /// <summary>5xx, timeouts, connection errors: retried with backoff.</summary>
    Transient,

    /// <summary>A 4xx that will not change (e.g. Mailchimp "Member In Compliance State"): straight to the DLQ.</summary>
    Permanent,
}

public sealed record DeliveryResult
{
    public required DeliveryOutcome Outcome { get; init; }
    public int? Status { get; init; }
    public string? Error { get; init; }
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>What was sent (method, path, body without credentials) — kept in the DLQ.</summary>
    public IReadOnlyList<string> Requests { get; init; } = [];

    /// <summary>Last response body (truncated), for the DLQ.</summary>
    public string? Response { get; init; }

    public static DeliveryResult Ok(IReadOnlyList<string> requests) => new() { Outcome = DeliveryOutcome.Succeeded, Status = 200, Requests = requests };
}

/// <summary>One destination's API client. Single attempt per call: retries, backoff and rate limits belong to the dispatcher.</summary>
public interface IDestinationConnector
{
    DestinationConfig Config { get; }

    Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken);
}

/// <summary>
/// An event destination whose API takes many events in one request (R5.6: Mixpanel's import, GA4's
/// up to 25 events). The dispatcher hands it up to <see cref="MaxBatch"/> claimed event tasks of one
/// destination at once; each task gets its own result, in the order given (one rejected event does
/// not fail the others where the API says which one failed).
/// </summary>
public interface IBatchConnector : IDestinationConnector
{
    /// <summary>The API's own limit on events per request.</summary>
    int MaxBatch { get; }

    Task<IReadOnlyList<DeliveryResult>> DeliverBatchAsync(IReadOnlyList<DeliveryWork> work, CancellationToken cancellationToken);
}
