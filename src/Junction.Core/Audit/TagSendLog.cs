using Junction.Dispatch;
using Junction.State;

namespace Junction.Audit;

/// <summary>A state delivery that succeeded: the destination tags it made the contact hold, and when.</summary>
public sealed record StateSend(string Destination, string PersonId, IReadOnlyList<string> Tags, DateTimeOffset At);

/// <summary>
/// Point 4's "a tag added more than once for one cause", from Junction's own delivery log. Replaying
/// each (destination, person)'s succeeded state deliveries in send order, a tag is added by the
/// delivery whose desired state holds it when the one before did not (a heal that re-adds a tag
/// removed by hand is not an add: the desired state never dropped it). The cause of a product's tag
/// is the entitlement's grant; an add before the grant belongs to an earlier one and is not counted.
/// Tags of no product have no cause Junction can name, so they are not counted.
/// </summary>
public static class TagSendLog
{
    public static IReadOnlyList<TagSends> Count(IEnumerable<StateSend> sends, IReadOnlyDictionary<string, PersonState> states,
        IReadOnlyList<DestinationConfig> destinations, Policy policy)
    {
        ArgumentNullException.ThrowIfNull(sends);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(destinations);
        ArgumentNullException.ThrowIfNull(policy);
        var byId = destinations.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var counts = new Dictionary<(string Destination, string PersonId, string Tag, string Cause), int>();
        foreach (var group in sends.GroupBy(s => (s.Destination, s.PersonId)))
        {
            if (!byId.TryGetValue(group.Key.Destination, out var d) || !states.TryGetValue(group.Key.PersonId, out var state)) continue;
            var held = new HashSet<string>(StringComparer.Ordinal);
            foreach (var send in group)
            {
                foreach (var tag in send.Tags.Where(t => !held.Contains(t)))
                {
                    if (Cause(d, state, policy, tag, send.At) is { } cause)
                    {
                        var key = (d.Id, group.Key.PersonId, tag, cause);
                        counts[key] = counts.GetValueOrDefault(key) + 1;
                    }
                }
                held.Clear();
                held.UnionWith(send.Tags);
            }
        }
        return [.. counts.Select(c => new TagSends(c.Key.Destination, c.Key.PersonId, c.Key.Tag, c.Key.Cause, c.Value))
            .OrderBy(t => t.Destination, StringComparer.Ordinal).ThenBy(t => t.PersonId, StringComparer.Ordinal).ThenBy(t => t.Tag, StringComparer.Ordinal)];
    }

    private static string? Cause(DestinationConfig d, PersonState state, Policy policy, string destinationTag, DateTimeOffset at)
    {
        foreach (var product in policy.Products)
        {
            if (!product.TagsWhileActive.Any(t => d.Tags.TryGetValue(t, out var mapped) && mapped == destinationTag)) continue;
            var grant = state.Entitlements.FirstOrDefault(e => e.Product == product.Id)?.GrantedAt;
            if (grant is { } g && at >= g) return $"the grant of {product.Id} at {g.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";
        }
        return null;
    }
}
