using Junction.Canonical;
using Junction.State;

namespace Junction.Identity;

/// <summary>What resolution reads from a graph. The in-memory graph implements it; so can a store.</summary>
public interface IIdentityView
{
    /// <summary>The (surviving) person holding the identifier, or null.</summary>
    string? OwnerOf(IdentifierKey key);

    /// <summary>The identifiers a person holds now.</summary>
    IReadOnlyCollection<IdentifierKey> IdentifiersOf(string personId);

    /// <summary>The earliest occurred_at of anything attached to the person (who is "oldest" in a merge).</summary>
    DateTimeOffset FirstSeenAt(string personId);
}

/// <summary>An identity graph: resolves events to people, keeps the merge log, detaches identifiers.</summary>
public interface IIdentityGraph : IIdentityView
{
    /// <summary>Decides who the event is about (see <see cref="IdentityResolver"/>) and applies the decision.</summary>
    IdentityDecision Resolve(CanonicalEvent e);

    /// <summary>Follows the merge log: a merged id answers with its survivor. Null when unknown.</summary>
    string? Canonical(string personId);

    PersonIdentity? Person(string personId);

    /// <summary>Removes a wrongly linked identifier from its person; the history keeps it.</summary>
    bool Detach(IdentifierKey key, string reason, DateTimeOffset at);

    /// <summary>Append-only: every merge and detach, in the order they happened.</summary>
    IReadOnlyList<IdentityLogEntry> Log { get; }

    /// <summary>Links refused because they would break a limit, for review.</summary>
    IReadOnlyList<IdentityConflict> Conflicts { get; }
}

public sealed record IdentityDecision
{
    /// <summary>Who the event is about; null when it carries no usable identifier.</summary>
    public string? PersonId { get; init; }

    public bool CreatesPerson { get; init; }

    /// <summary>Identifiers new to <see cref="PersonId"/>.</summary>
    public IReadOnlyList<IdentifierRef> Attach { get; init; } = [];

    /// <summary>People merged into <see cref="PersonId"/> (which survives: the oldest).</summary>
    public IReadOnlyList<string> Merged { get; init; } = [];

    /// <summary>Identifiers not linked, each with why (junk, limit, conflict).</summary>
    public IReadOnlyList<DroppedIdentifier> Dropped { get; init; } = [];

    /// <summary>Identifiers to take off the person (an email.changed that would break the email limit retires the old address).</summary>
    public IReadOnlyList<IdentifierKey> Retire { get; init; } = [];

    public IdentityConflict? Conflict { get; init; }

    /// <summary>Set on order.paid / subscription.renewed that carry an email: the person's purchase email.</summary>
    public string? PurchaseEmail { get; init; }

    /// <summary>Set on email.changed: the address the person uses now.</summary>
    public string? PrimaryEmail { get; init; }
}

public sealed record DroppedIdentifier(IdentifierKey Key, string Reason);

public sealed record IdentityConflict(string EventId, DateTimeOffset At, IReadOnlyList<string> People, IReadOnlyList<IdentifierKey> Identifiers, string Reason, string AttachedTo);

public sealed record IdentityLogEntry
{
    public required long Seq { get; init; }

    /// <summary><c>merge</c>, <c>detach</c> or <c>retire</c>.</summary>
    public required string Kind { get; init; }

    public required string PersonId { get; init; }

    /// <summary>On merge: the person merged into <see cref="PersonId"/>.</summary>
    public string? MergedId { get; init; }

    /// <summary>On merge: the identifiers that linked them; on detach: the one taken off.</summary>
    public IReadOnlyList<IdentifierKey> Identifiers { get; init; } = [];

    public string? EventId { get; init; }
    public string? Reason { get; init; }
    public required DateTimeOffset At { get; init; }
}

public sealed record IdentifierEntry(IdentifierKey Key, string Raw, string Source, DateTimeOffset AttachedAt, string? EventId);

/// <summary>A person as the identity graph knows them.</summary>
public sealed record PersonIdentity
{
    public required string Id { get; init; }
    public required DateTimeOffset FirstSeenAt { get; init; }
    public required IReadOnlyList<IdentifierEntry> Identifiers { get; init; }
    public IReadOnlyList<string> Emails => [.. Identifiers.Where(i => i.Key.Type == IdentifierType.Email).Select(i => i.Key.Value)];
    public string? PrimaryEmail { get; init; }
    public string? PurchaseEmail { get; init; }

    /// <summary>Ids merged into this person (they resolve here).</summary>
    public IReadOnlyList<string> MergedIds { get; init; } = [];
}

/// <summary>
/// The identity rules, as a pure decision over an <see cref="IIdentityView"/>. docs/identity.md
/// states them; each has a test in tests/Junction.Tests/Identity.
/// </summary>
public static class IdentityResolver
{
    public const string UnauthenticatedMergeReason = "an unauthenticated source may not merge people";

    public static IdentityDecision Decide(CanonicalEvent e, IIdentityView view, IdentityPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(policy);
        var junk = new List<IdentifierRef>();
        var ids = IdentifierExtraction.Extract(e, policy, junk);
        var dropped = junk.Select(j => new DroppedIdentifier(j.Key, "junk value")).ToList();
        var purchaseEmail = e.Type is EventTypes.OrderPaid or EventTypes.SubscriptionRenewed ? e.Subject.Email : null;
        var primaryEmail = e.Type == EventTypes.EmailChanged ? e.Subject.Email : null;
        if (purchaseEmail is not null && IdentifierExtraction.IsJunk(purchaseEmail, policy)) purchaseEmail = null;
        if (primaryEmail is not null && IdentifierExtraction.IsJunk(primaryEmail, policy)) primaryEmail = null;
        if (ids.Count == 0) return new IdentityDecision { Dropped = dropped };

        var owners = Owners(ids, view);
        if (owners.Count > 1 && !policy.MayMerge(e.Source, e.Provider))
        {
            // Anyone can post a form: one naming A's email and B's phone must not join A and B
            // (nor hand B's history to whoever typed A's address). The event goes to the owner of
            // its highest-priority identifier; the link is kept for review.
            var target = ids.Select(i => view.OwnerOf(i.Key)).First(o => o is not null)!;
            var conflict = new IdentityConflict(e.Id, e.OccurredAt, [.. owners.Order(StringComparer.Ordinal)],
                [.. ids.Where(i => view.OwnerOf(i.Key) is not null).Select(i => i.Key)], UnauthenticatedMergeReason, target);
            var (attach, limited) = Fit(target, [], ids, view, policy);
            dropped.AddRange(limited);
            return new IdentityDecision
            {
                PersonId = target, Attach = attach, Dropped = dropped, Conflict = conflict,
                PurchaseEmail = purchaseEmail, PrimaryEmail = primaryEmail,
            };
        }
        if (owners.Count > 1 && !CanMerge(owners, ids, view, policy))
        {
            // Drop the lowest-priority identifier that links to someone, and try once more.
            var linking = ids.Where(i => view.OwnerOf(i.Key) is not null).ToList();
            var lowest = linking[^1];
            ids.Remove(lowest);
            dropped.Add(new DroppedIdentifier(lowest.Key, "merge would break an identifier limit"));
            owners = Owners(ids, view);
            if (owners.Count > 1 && !CanMerge(owners, ids, view, policy))
            {
                // Still in conflict: no merge; the event goes to the owner of its highest-priority match.
                var target = ids.Select(i => view.OwnerOf(i.Key)).First(o => o is not null)!;
                var conflict = new IdentityConflict(e.Id, e.OccurredAt, [.. owners.Order(StringComparer.Ordinal)],
                    [.. ids.Where(i => view.OwnerOf(i.Key) is not null).Select(i => i.Key)], "merge would break an identifier limit", target);
                var (attach, limited) = Fit(target, [], ids, view, policy);
                dropped.AddRange(limited);
                return new IdentityDecision
                {
                    PersonId = target, Attach = attach, Dropped = dropped, Conflict = conflict,
                    PurchaseEmail = purchaseEmail, PrimaryEmail = primaryEmail,
                };
            }
        }

        if (owners.Count == 0)
        {
            var id = NewPersonId(e.Id);
            var (attach, limited) = Fit(null, [], ids, view, policy);
            dropped.AddRange(limited);
            return new IdentityDecision
            {
                PersonId = id, CreatesPerson = true, Attach = attach, Dropped = dropped,
                PurchaseEmail = purchaseEmail, PrimaryEmail = primaryEmail,
            };
        }

        // One owner, or several that can merge: the oldest survives.
        var survivor = owners.OrderBy(view.FirstSeenAt).ThenBy(o => o, StringComparer.Ordinal).First();
        var merged = owners.Where(o => o != survivor).Order(StringComparer.Ordinal).ToList();
        var (attachTo, overLimit) = Fit(survivor, merged, ids, view, policy);
        var retire = new List<IdentifierKey>();
        if (e.Type == EventTypes.EmailChanged && primaryEmail is not null && e.Subject.PreviousEmail is { } previous
            && overLimit.Any(d => d.Key == IdentifierKey.Email(primaryEmail)))
        {
            // An address change at the email limit retires the old address to make room for the new one.
            retire.Add(IdentifierKey.Email(previous));
            overLimit.RemoveAll(d => d.Key == IdentifierKey.Email(primaryEmail));
            attachTo.Add(ids.First(i => i.Key == IdentifierKey.Email(primaryEmail)));
        }
        dropped.AddRange(overLimit);
        return new IdentityDecision
        {
            PersonId = survivor, Attach = attachTo, Merged = merged, Dropped = dropped, Retire = retire,
            PurchaseEmail = purchaseEmail, PrimaryEmail = primaryEmail,
        };
    }

    /// <summary>A person id derived from the event that created the person, so a rebuild gives the same ids.</summary>
    public static string NewPersonId(string eventId) =>
        "p_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(eventId)).AsSpan(0, 12));

    private static HashSet<string> Owners(List<IdentifierRef> ids, IIdentityView view)
    {
        var owners = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in ids)
        {
            if (view.OwnerOf(i.Key) is { } owner) owners.Add(owner);
        }
        return owners;
    }

    private static bool CanMerge(HashSet<string> owners, List<IdentifierRef> ids, IIdentityView view, IdentityPolicy policy)
    {
        var all = new HashSet<IdentifierKey>();
        foreach (var o in owners) all.UnionWith(view.IdentifiersOf(o));
        foreach (var i in ids)
        {
            if (view.OwnerOf(i.Key) is null) all.Add(i.Key);
        }
        return WithinLimits(all, policy);
    }

    internal static bool WithinLimits(IEnumerable<IdentifierKey> keys, IdentityPolicy policy)
    {
        int emails = 0, phones = 0, anonymous = 0;
        var customerScopes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var k in keys)
        {
            switch (k.Type)
            {
                case IdentifierType.Email: emails++; break;
                case IdentifierType.Phone: phones++; break;
                case IdentifierType.AnonymousId: anonymous++; break;
                case IdentifierType.CustomerId when !customerScopes.Add(k.Scope ?? ""): return false;
            }
        }
        return emails <= policy.EmailLimit && phones <= policy.PhoneLimit && anonymous <= policy.AnonymousIdLimit;
    }

    /// <summary>The event's unowned identifiers that fit under the target's limits (after merging <paramref name="merged"/>).</summary>
    private static (List<IdentifierRef> Attach, List<DroppedIdentifier> Dropped) Fit(
        string? target, List<string> merged, List<IdentifierRef> ids, IIdentityView view, IdentityPolicy policy)
    {
        var attach = new List<IdentifierRef>();
        var dropped = new List<DroppedIdentifier>();
        // The common case: every identifier is already held; no limit to check.
        if (ids.TrueForAll(i => view.OwnerOf(i.Key) is not null)) return (attach, dropped);
        var held = new HashSet<IdentifierKey>();
        if (target is not null) held.UnionWith(view.IdentifiersOf(target));
        foreach (var m in merged) held.UnionWith(view.IdentifiersOf(m));
        foreach (var i in ids)
        {
            if (view.OwnerOf(i.Key) is not null) continue;
            held.Add(i.Key);
            if (WithinLimits(held, policy))
            {
                attach.Add(i);
            }
            else
            {
                held.Remove(i.Key);
                dropped.Add(new DroppedIdentifier(i.Key, $"the person already holds the most {i.Key.TypeName} identifiers allowed"));
            }
        }
        return (attach, dropped);
    }
}
