using System.Text;
using System.Text.Json;
using Junction.Storage;

namespace Junction.Normalize;

/// <summary>
/// Schema drift (R2.5): per source and provider event type, the set of field paths seen and how
/// often. A path never seen before is "added"; a path that every earlier event had and this one
/// lacks is "removed" (a rename shows as both, in the same event). Held in memory by the one node
/// that normalizes, and written with each batch.
/// </summary>
public sealed class DriftTracker(Dictionary<(string Source, string ProviderType), DriftTypeState> state)
{
    private const int MaxPaths = 500;

    /// <summary>
    /// Event types tracked per source. The type comes from the body, so a sender that invents a new
    /// one with every event (a misbehaving integration, a fuzzer, a hostile form) would otherwise grow
    /// this state, its table and every batch's work without end; types beyond it are not tracked.
    /// </summary>
    public const int MaxTypesPerSource = 500;

    /// <summary>Field paths tracked per source and type, for the same reason: paths beyond it are not tracked.</summary>
    public const int MaxPathsPerType = 1_000;

    private readonly Dictionary<string, int> _typesPerSource = state.Keys
        .GroupBy(k => k.Source, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public DriftUpdate Observe(IEnumerable<(string Source, string ProviderType, string RawId, IReadOnlyCollection<string> Paths)> events, DateTimeOffset now)
    {
        var types = new Dictionary<(string, string), DriftTypeState>();
        var paths = new Dictionary<(string, string, string), DriftPathState>();
        var changes = new List<DriftChange>();
        foreach (var (source, type, rawId, seen) in events)
        {
            if (!state.TryGetValue((source, type), out var t))
            {
                var known = _typesPerSource.GetValueOrDefault(source);
                if (known >= MaxTypesPerSource) continue;
                _typesPerSource[source] = known + 1;
                t = new DriftTypeState();
                state[(source, type)] = t;
            }
            if (t.EventsSeen > 0)
            {
                var room = MaxPathsPerType - t.Paths.Count;
                foreach (var p in seen)
                {
                    if (t.Paths.ContainsKey(p) || room <= 0) continue;
                    changes.Add(new DriftChange(source, type, p, "added", now, rawId));
                    room--;
                }
                foreach (var (p, ps) in t.Paths)
                {
                    if (ps.SeenCount == t.EventsSeen && !seen.Contains(p)) changes.Add(new DriftChange(source, type, p, "removed", now, rawId));
                }
            }
            t.EventsSeen++;
            foreach (var p in seen)
            {
                if (!t.Paths.TryGetValue(p, out var ps))
                {
                    if (t.Paths.Count >= MaxPathsPerType) continue;
                    ps = new DriftPathState { FirstSeen = now, SampleRawId = rawId };
                    t.Paths[p] = ps;
                }
                ps.SeenCount++;
                ps.LastSeen = now;
                paths[(source, type, p)] = ps;
            }
            types[(source, type)] = t;
        }
        return new DriftUpdate(
            types.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value.EventsSeen)).ToList(),
            paths.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Value)).ToList(),
            changes);
    }

    /// <summary>The field paths of a body: <c>data.object.amount</c>, arrays as <c>items[].sku</c>, form keys as sent (indexes folded).</summary>
    /// <summary>The paths of a raw event's body, reusing the JSON its mapper already parsed.</summary>
    public static IReadOnlyCollection<string> PathsOf(RawInput input)
    {
        if (input.IsForm) return PathsOf(input.Body, input.ContentType);
        var result = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            Walk(input.Json(), "", result, 0);
        }
        catch (JsonException)
        {
            // Not JSON: no paths; normalization quarantines it with the reason.
        }
        return result;
    }

    public static IReadOnlyCollection<string> PathsOf(byte[] body, string contentType)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        if (contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var key in FormBody.Parse(Encoding.UTF8.GetString(body)).Keys)
            {
                if (result.Count >= MaxPaths) break;
                result.Add(FoldIndexes(key));
            }
            return result;
        }
        try
        {
            using var doc = JsonDocument.Parse(body);
            Walk(doc.RootElement, "", result, 0);
        }
        catch (JsonException)
        {
            // Not JSON: no paths; normalization quarantines it with the reason.
        }
        return result;
    }

    private static void Walk(JsonElement e, string prefix, HashSet<string> into, int depth)
    {
        if (into.Count >= MaxPaths || depth > 12) return;
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    var path = prefix.Length == 0 ? p.Name : prefix + "." + p.Name;
                    into.Add(path);
                    Walk(p.Value, path, into, depth + 1);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray()) Walk(item, prefix + "[]", into, depth + 1);
                break;
        }
    }

    // "item_name1" and "line_items[0][sku]" vary with the cart, not the schema.
    private static string FoldIndexes(string key)
    {
        var sb = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == '[' && i + 1 < key.Length && char.IsAsciiDigit(key[i + 1]))
            {
                var close = key.IndexOf(']', i);
                if (close > 0) { sb.Append("[]"); i = close; continue; }
            }
            sb.Append(key[i]);
        }
        return sb.ToString();
    }
}
