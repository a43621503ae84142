using Junction.Canonical;
using Junction.State;

namespace Junction.Identity;

/// <summary>
/// The identity graph in memory: deterministic for a given sequence of events (person ids come
/// from the creating event's id). Used by rebuilds and tests; a store implements the same rules
/// through <see cref="IIdentityView"/> and <see cref="IdentityResolver"/>.
/// </summary>
public sealed class InMemoryIdentityGraph(IdentityPolicy policy) : IIdentityGraph
{
    private readonly Dictionary<IdentifierKey, string> _owner = [];
    private readonly Dictionary<string, Node> _people = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _mergedInto = new(StringComparer.Ordinal);
    private readonly List<IdentityLogEntry> _log = [];
    private readonly List<IdentityConflict> _conflicts = [];
    private long _logSeq;

    public InMemoryIdentityGraph() : this(IdentityPolicy.Default)
    {
    }

    public IReadOnlyList<IdentityLogEntry> Log => _log;
    public IReadOnlyList<IdentityConflict> Conflicts => _conflicts;
    public int PeopleCount => _people.Count;

    public string? OwnerOf(IdentifierKey key) => _owner.TryGetValue(key, out var p) ? p : null;

    public IReadOnlyCollection<IdentifierKey> IdentifiersOf(string personId) =>
        _people.TryGetValue(personId, out var n) ? n.Identifiers.Keys : [];

    public DateTimeOffset FirstSeenAt(string personId) =>
        _people.TryGetValue(personId, out var n) ? n.FirstSeenAt : DateTimeOffset.MaxValue;

    public string? Canonical(string personId)
    {
        var id = personId;
        for (var hops = 0; hops < 10_000; hops++)
        {
            if (_people.ContainsKey(id)) return id;
            if (!_mergedInto.TryGetValue(id, out var next)) return null;
            id = next;
        }
        return null;
    }

    public PersonIdentity? Person(string personId)
    {
        if (Canonical(personId) is not { } id) return null;
        var n = _people[id];
        return new PersonIdentity
        {
            Id = id,
            FirstSeenAt = n.FirstSeenAt,
            Identifiers = [.. n.Identifiers.Values.OrderBy(i => i.Key)],
            PrimaryEmail = n.PrimaryEmail,
            PurchaseEmail = n.PurchaseEmail,
            MergedIds = [.. n.MergedIds.Order(StringComparer.Ordinal)],
        };
    }

    public IdentityDecision Resolve(CanonicalEvent e)
    {
        var decision = IdentityResolver.Decide(e, this, policy);
        Apply(e, decision);
        return decision;
    }

    /// <summary>Applies a decision made by <see cref="IdentityResolver.Decide"/> against this graph.</summary>
    public void Apply(CanonicalEvent e, IdentityDecision decision)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.PersonId is not { } id) return;
        var at = e.OccurredAt.ToUniversalTime();
        if (!_people.TryGetValue(id, out var person))
        {
            person = new Node(at);
            _people[id] = person;
        }
        else if (at < person.FirstSeenAt)
        {
            person.FirstSeenAt = at;
        }

        foreach (var mergedId in decision.Merged)
        {
            if (!_people.Remove(mergedId, out var loser)) continue;
            foreach (var (key, entry) in loser.Identifiers)
            {
                person.Identifiers[key] = entry;
                _owner[key] = id;
            }
            person.MergedIds.Add(mergedId);
            person.MergedIds.UnionWith(loser.MergedIds);
            if (loser.FirstSeenAt < person.FirstSeenAt) person.FirstSeenAt = loser.FirstSeenAt;
            person.PrimaryEmail ??= loser.PrimaryEmail;
            person.PurchaseEmail ??= loser.PurchaseEmail;
            _mergedInto[mergedId] = id;
            _log.Add(new IdentityLogEntry
            {
                Seq = ++_logSeq,
                Kind = "merge",
                PersonId = id,
                MergedId = mergedId,
                Identifiers = [.. IdentifierExtraction.Extract(e, policy).Select(i => i.Key).Where(k => loser.Identifiers.ContainsKey(k))],
                EventId = e.Id,
                Reason = "an event carried identifiers of both",
                At = at,
            });
        }

        foreach (var key in decision.Retire)
        {
            if (person.Identifiers.Remove(key))
            {
                _owner.Remove(key);
                _log.Add(new IdentityLogEntry { Seq = ++_logSeq, Kind = "retire", PersonId = id, Identifiers = [key], EventId = e.Id, Reason = "email changed at the email limit", At = at });
            }
        }

        foreach (var r in decision.Attach)
        {
            if (_owner.ContainsKey(r.Key)) continue;
            _owner[r.Key] = id;
            person.Identifiers[r.Key] = new IdentifierEntry(r.Key, r.Raw, r.Source, at, e.Id);
        }
        if (decision.PrimaryEmail is { } primary) person.PrimaryEmail = primary;
        else if (person.PrimaryEmail is null && e.Subject.Email is { } email && _owner.GetValueOrDefault(IdentifierKey.Email(email)) == id) person.PrimaryEmail = email;
        if (decision.PurchaseEmail is { } purchase) person.PurchaseEmail = purchase;
        if (decision.Conflict is { } conflict) _conflicts.Add(conflict);
    }

    /// <summary>Loads a surviving person as a store kept it (the projector's start-up).</summary>
    public void Restore(string personId, DateTimeOffset firstSeenAt, string? primaryEmail, string? purchaseEmail, IEnumerable<IdentifierEntry> identifiers)
    {
        ArgumentNullException.ThrowIfNull(identifiers);
        var node = new Node(firstSeenAt) { PrimaryEmail = primaryEmail, PurchaseEmail = purchaseEmail };
        foreach (var entry in identifiers)
        {
            node.Identifiers[entry.Key] = entry;
            _owner[entry.Key] = personId;
        }
        _people[personId] = node;
    }

    /// <summary>Loads a merge as a store kept it: <paramref name="mergedId"/> resolves to <paramref name="into"/>.</summary>
    public void RestoreMerged(string mergedId, string into)
    {
        _mergedInto[mergedId] = into;
        if (_people.TryGetValue(into, out var node)) node.MergedIds.Add(mergedId);
    }

    /// <summary>Drops the in-memory log and conflicts once a caller has stored them (a long-running projector).</summary>
    public void ClearHistory()
    {
        _log.Clear();
        _conflicts.Clear();
    }

    public bool Detach(IdentifierKey key, string reason, DateTimeOffset at)
    {
        if (!_owner.Remove(key, out var id)) return false;
        var person = _people[id];
        person.Identifiers.Remove(key);
        if (key.Type == IdentifierType.Email)
        {
            if (person.PrimaryEmail == key.Value) person.PrimaryEmail = null;
            if (person.PurchaseEmail == key.Value) person.PurchaseEmail = null;
        }
        _log.Add(new IdentityLogEntry { Seq = ++_logSeq, Kind = "detach", PersonId = id, Identifiers = [key], Reason = reason, At = at.ToUniversalTime() });
        return true;
    }

    private sealed class Node(DateTimeOffset firstSeenAt)
    {
        public DateTimeOffset FirstSeenAt = firstSeenAt;
        public readonly Dictionary<IdentifierKey, IdentifierEntry> Identifiers = [];
        public readonly HashSet<string> MergedIds = new(StringComparer.Ordinal);
        public string? PrimaryEmail;
        public string? PurchaseEmail;
    }
}
