using Junction.Canonical;

namespace Junction.State;

/// <summary>
/// A person's state as a pure fold of their canonical events. The fold keeps the set of events
/// (deduplicated by id) sorted by (occurred_at, id) and the state is a function of that sorted set
/// alone, so any permutation of the same events, with any duplicates, gives the same state. An
/// event that sorts after the last one is applied incrementally (the common, in-order case); one
/// that arrives out of order is inserted and the state re-derived from the sorted set.
/// Time-dependent parts (pending revocations, lifecycle timers) are computed at an explicit
/// <c>asOf</c> in <c>Snapshot</c>: the fold itself never reads a clock.
/// </summary>
public sealed class PersonFold
{
    private readonly Policy _policy;
    private readonly List<CanonicalEvent> _events = [];
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OperatorOverride> _overrides = new(StringComparer.Ordinal);
    private Accumulator _acc;

    public PersonFold(Policy policy)
    {
        _policy = policy;
        _acc = new Accumulator(policy);
    }

    public Policy Policy => _policy;

    /// <summary>The events folded so far, in (occurred_at, id) order.</summary>
    public IReadOnlyList<CanonicalEvent> Events => _events;

    public int Count => _events.Count;

    /// <summary>How many times an out-of-order event forced a re-derivation (for metrics and tests).</summary>
    public int Rederivations { get; private set; }

    /// <summary>Adds an event. False when it was already folded (same id).</summary>
    public bool Apply(CanonicalEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!_ids.Add(e.Id)) return false;
        if (_events.Count == 0 || Compare(_events[^1], e) < 0)
        {
            _events.Add(e);
            _acc.Apply(e);
            return true;
        }
        var index = _events.BinarySearch(e, EventOrder.Instance);
        _events.Insert(~index, e);
        Rederive();
        return true;
    }

    public void ApplyAll(IEnumerable<CanonicalEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events) Apply(e);
    }

    /// <summary>Adds an operator override. False when it was already folded (same id).</summary>
    public bool ApplyOverride(OperatorOverride o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return _overrides.TryAdd(o.Id, o);
    }

    /// <summary>Takes in everything another person's fold holds (the identity graph merged them).</summary>
    public void Absorb(PersonFold other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var added = false;
        foreach (var e in other._events)
        {
            if (_ids.Add(e.Id))
            {
                _events.Add(e);
                added = true;
            }
        }
        foreach (var o in other._overrides.Values) _overrides.TryAdd(o.Id, o);
        if (!added) return;
        _events.Sort(EventOrder.Instance);
        Rederive();
    }

    public PersonState Snapshot(DateTimeOffset asOf) => _acc.Snapshot(asOf.ToUniversalTime(), _overrides.Values);

    public PersonState Snapshot(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return Snapshot(time.GetUtcNow());
    }

    public string Digest(DateTimeOffset asOf) => Snapshot(asOf).Digest();

    private void Rederive()
    {
        Rederivations++;
        _acc = new Accumulator(_policy);
        foreach (var e in _events) _acc.Apply(e);
    }

    private static int Compare(CanonicalEvent a, CanonicalEvent b) => EventOrder.Instance.Compare(a, b);

    /// <summary>(occurred_at, id): the one order the state is derived in.</summary>
    public sealed class EventOrder : IComparer<CanonicalEvent>
    {
        public static readonly EventOrder Instance = new();

        public int Compare(CanonicalEvent? x, CanonicalEvent? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x is null) return -1;
            if (y is null) return 1;
            var c = x.OccurredAt.UtcTicks.CompareTo(y.OccurredAt.UtcTicks);
            return c != 0 ? c : string.CompareOrdinal(x.Id, y.Id);
        }
    }
}
