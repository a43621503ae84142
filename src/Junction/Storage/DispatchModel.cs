namespace Junction.Storage;

/// <summary>Delivery task states (the <c>deliveries.state</c> column).</summary>
public static class DeliveryStates
{
    public const string Pending = "pending";
    public const string InFlight = "in_flight";
    public const string Succeeded = "succeeded";

    /// <summary>Waiting while its destination is paused: visible, not failed.</summary>
    public const string Held = "held";

    /// <summary>In the dead-letter queue.</summary>
    public const string Dead = "dead";

    /// <summary>A state task replaced by a newer desired state for the same person before it was sent.</summary>
    public const string Superseded = "superseded";

    public static readonly IReadOnlyList<string> All = [Pending, InFlight, Succeeded, Held, Dead, Superseded];
}

/// <summary>
/// A task claimed under a lease. <paramref name="LastSynced"/> is the destination_sync JSON for state tasks;
/// <paramref name="SealKey"/> the erasure's key for erase tasks (null once shredded).
/// </summary>
public sealed record ClaimedDelivery(
    long Id, string Destination, string PersonId, string Kind, string? EventId, string Payload, string? TraceId,
    int Attempt, long FirstAttemptAt, string? LastSynced, string? SealKey = null);

/// <summary>One attempt's record (delivery_attempts).</summary>
public sealed record DeliveryAttemptRecord(int Attempt, long StartedAt, long DurationMs, string Outcome, int? Status, string? Error);

/// <summary>
/// How a claimed task ends its attempt. Applied only while the claimer still holds the lease.
/// <paramref name="State"/> is pending (retry at <paramref name="NextAttemptAt"/>), succeeded or dead;
/// a pending task of a paused destination becomes held.
/// </summary>
public sealed record DeliveryCompletion(
    long Id, string LeaseOwner, string State, DeliveryAttemptRecord Attempt,
    long? NextAttemptAt = null, bool CountAttempt = true, string? Error = null, int? Status = null,
    string? DeadReason = null, string? Request = null, string? SyncedDesired = null);

public sealed record DeliveryRow(
    long Id, string Destination, string PersonId, string Kind, string? EventId, string State, int Attempts,
    long CreatedAt, long NextAttemptAt, long? FirstAttemptAt, long? CompletedAt, string? LastError, int? LastStatus,
    string? DeadReason, string? Request, string? TraceId, long? ReplayedAt, string Payload);

public sealed record DeliveryQuery(string? Destination, string? State, string? PersonId, long After, int Limit);

public sealed record DeliveryPage(IReadOnlyList<DeliveryRow> Items, long? Next);

/// <summary>Which dead tasks to replay: by ids, or by a filter (destination, dead since, person).</summary>
public sealed record ReplayFilter(IReadOnlyList<long>? Ids, string? Destination, long? SinceMs, string? PersonId);

/// <summary>Open work per destination.</summary>
public sealed record DestinationBacklog(string Destination, long Pending, long Held, long InFlight, long Dead);

public sealed record DestinationControl(string Destination, bool Paused, long? PausedAt, string? Reason);

/// <summary>What a take from a shared rate bucket got: whole tokens granted, and the (fractional) tokens left in the bucket.</summary>
public sealed record RateGrant(int Granted, double Left);
