using Junction.Dispatch;
using Junction.Identity;
using Junction.State;

namespace Junction.Storage;

/// <summary>A canonical event as the project stage reads it: log position, JSON, and the trace id of the raw event behind it.</summary>
public sealed record ProjectRow(long Seq, string Json, string? TraceId);

public sealed record StoredPerson(string PersonId, DateTimeOffset FirstSeenAt, string? PrimaryEmail, string? PurchaseEmail, string? State, string? Digest);

/// <summary>What the identity graph needs at start-up: surviving people, their identifiers, and who was merged into whom.</summary>
public sealed record IdentitySnapshot(
    IReadOnlyList<StoredPerson> People,
    IReadOnlyList<(string PersonId, IdentifierEntry Entry)> Identifiers,
    IReadOnlyList<(string Merged, string Into)> Merged);

public sealed record StoredOverride(long Seq, string PersonId, OperatorOverride Override);

/// <summary>A person row to write. Identifiers are rewritten only when <see cref="IdentityChanged"/>.</summary>
/// <summary>A person to write; with <paramref name="State"/> the read model (person_summary, order_summary) is written too.</summary>
public sealed record PersonWrite(PersonIdentity Identity, string StateJson, string Digest, bool IdentityChanged = true, PersonState? State = null);

public sealed record StateChangeRow(string PersonId, DateTimeOffset At, string Cause, string? CauseId, IReadOnlyList<string> Changes, string Digest, string? TraceId);

public sealed record MergeWrite(string Merged, string Into, DateTimeOffset At);

/// <summary>Everything one projection step writes, in one transaction with its cursors.</summary>
public sealed class ProjectionCommit
{
    public long? Cursor { get; set; }
    public long? OverrideCursor { get; set; }
    public List<(string EventId, string PersonId, long Seq)> PersonEvents { get; } = [];
    public List<MergeWrite> Merges { get; } = [];
    public List<PersonWrite> People { get; } = [];
    public List<(IdentityLogEntry Entry, long CanonicalSeq)> Log { get; } = [];
    public List<IdentityConflict> Conflicts { get; } = [];
    public List<StateChangeRow> Changes { get; } = [];

    /// <summary>Per person: the timers its state holds now (unfired ones are replaced; fired keys stay fired).</summary>
    public List<(string PersonId, IReadOnlyList<TimerState> Timers)> Timers { get; } = [];

    public List<DeliveryDraft> Deliveries { get; } = [];

    /// <summary>Canonical events the step could not project: recorded (or their failed retry updated) with the reason.</summary>
    public List<PoisonWrite> Poison { get; } = [];

    /// <summary>Poisoned events that projected on retry: their poison rows go.</summary>
    public List<long> PoisonResolved { get; } = [];

    /// <summary>Events carrying an erased address (operations log entries <c>erased_person_returned</c>).</summary>
    public List<ErasedReturn> ErasedReturned { get; } = [];

    public bool IsEmpty => Cursor is null && OverrideCursor is null && People.Count == 0 && Merges.Count == 0 && PersonEvents.Count == 0
        && Poison.Count == 0 && PoisonResolved.Count == 0;
}

/// <summary>A canonical event that carries an address an erasure removed.</summary>
public sealed record ErasedReturn(string EventId, string Source, string ErasureId);

/// <summary>A canonical event the projector skipped because projecting it threw.</summary>
public sealed record PoisonWrite(long Seq, string EventId, string Reason);

/// <summary>A row of project_poison. Status: poison (skipped) or retry (waiting for the projector's next step).</summary>
public sealed record PoisonRow(long Seq, string EventId, string Status, string Reason, long Attempts, DateTimeOffset FirstAt, DateTimeOffset LastAt);

public static class PoisonStatus
{
    public const string Poison = "poison";
    public const string Retry = "retry";
}

public sealed record TimerRow(string Key, string PersonId, string Kind, string Name, DateTimeOffset DueAt, DateTimeOffset? FiredAt);

public sealed record TimelineRow(DateTimeOffset At, string Kind, string? Id, string? TraceId, string Summary, string? Detail);

/// <summary>The tables a rebuild replaces wholesale.</summary>
public sealed class RebuildWrite
{
    public required long Cursor { get; init; }
    public long? OverrideCursor { get; init; }
    public required IReadOnlyList<PersonWrite> People { get; init; }
    public required IReadOnlyList<(string Merged, string Into, DateTimeOffset At)> Merged { get; init; }
    public required IReadOnlyList<(string EventId, string PersonId, long Seq)> PersonEvents { get; init; }
    public required IReadOnlyList<(IdentityLogEntry Entry, long CanonicalSeq)> Log { get; init; }
    public required IReadOnlyList<IdentityConflict> Conflicts { get; init; }
    public required IReadOnlyList<(string PersonId, IReadOnlyList<TimerState> Timers)> Timers { get; init; }
    public required IReadOnlyList<StateChangeRow> Changes { get; init; }
    public required DateTimeOffset At { get; init; }
}

/// <summary>A stored identity conflict: identifiers as <c>TYPE:VALUE</c>, the person the event went to.</summary>
public sealed record IdentityConflictRow(long Seq, string EventId, DateTimeOffset At, IReadOnlyList<string> People, IReadOnlyList<string> Identifiers, string Reason, string AttachedTo);
