using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Junction.Tests.Fuzz;

internal enum Mutation
{
    None,
    TypeConfusion,
    MissingField,
    ExtraField,
    HugeNumber,
    NegativeNumber,
    DeepNesting,
    InvalidUtf8,
    DuplicateKey,
    OversizeString,
    Truncated,
    WrongContentType,
}

/// <summary>One fuzz case: the body to post, its content type (null: none), and what was done to it.</summary>
internal sealed record FuzzCase(long Index, FuzzFixture Fixture, byte[] Body, string? ContentType, IReadOnlyList<Mutation> Mutations);

/// <summary>
/// Deterministic: case <c>i</c> of seed <c>s</c> is always the same body, so a failure names a case
/// that can be made again (<see cref="Make"/>) and turned into a regression test.
/// </summary>
internal static class Mutator
{
    private static readonly Mutation[] Kinds = Enum.GetValues<Mutation>().Where(m => m != Mutation.None).ToArray();

    private static readonly string[] Huge =
    [
        "1e999999", "-1e999999", "9" + new string('9', 400), "-9223372036854775809", "18446744073709551616", "1.7976931348623157e309",
        "123456789012345678901234567890.123456789", "4.9e-325", "-0", "0.0000000000000000000000000000001", "1E+2147483648",
        "99999999999999999999", "2147483648", "-2147483649",
    ];

    private static readonly string[] Negative = ["-1", "-4900", "-0.01", "-2147483648", "-9223372036854775808", "-1e20", "-999999999999"];

    private static readonly string[] WrongTypes =
    [
        "application/xml", "text/plain", "multipart/form-data; boundary=x", "application/octet-stream", "", "application/json; charset=latin1",
        "application/x-www-form-urlencoded", "application/json", "application/vnd.api+json", "text/json", "APPLICATION/JSON",
        "application/x-www-form-urlencoded; charset=windows-1252", ";;;", "application/json; charset=utf-16",
    ];

    public static FuzzCase Make(int seed, long index)
    {
        var random = new Random(unchecked(seed * 1_000_003 + (int)index * 7919 + (int)(index >> 32)));
        var fixture = FuzzCorpus.Fixtures[random.Next(FuzzCorpus.Fixtures.Count)];
        var body = fixture.Unique is { } unique
            ? fixture.Body.Replace(unique, unique.Contains(':', StringComparison.Ordinal) ? unique + index.ToString(CultureInfo.InvariantCulture) : Unique(unique, index), StringComparison.Ordinal)
            : fixture.Body;
        string? contentType = fixture.ContentType;

        // One mutation in most cases, two or three in some, none in a few (the unmutated fixture must map).
        var roll = random.Next(100);
        var count = roll < 3 ? 0 : roll < 75 ? 1 : roll < 93 ? 2 : 3;
        var applied = new List<Mutation>(count);
        var bytes = Encoding.UTF8.GetBytes(body);
        for (var m = 0; m < count; m++)
        {
            var kind = Kinds[random.Next(Kinds.Length)];
            applied.Add(kind);
            if (kind == Mutation.WrongContentType)
            {
                var t = WrongTypes[random.Next(WrongTypes.Length)];
                contentType = t.Length == 0 && random.Next(2) == 0 ? null : t;
                continue;
            }
            bytes = fixture.ContentType == FuzzCorpus.Form ? MutateForm(random, kind, bytes) : MutateJson(random, kind, bytes);
        }
        return new FuzzCase(index, fixture, bytes, contentType, applied);
    }

    /// <summary>The id with the case number worked in, keeping its shape where it is all digits (a numeric id stays numeric).</summary>
    private static string Unique(string id, long index)
    {
        var n = index.ToString(CultureInfo.InvariantCulture);
        if (id.All(char.IsAsciiDigit)) return id.Length > n.Length + 1 ? id[..(id.Length - n.Length - 1)] + "9" + n : id + n;
        return id.Length > n.Length + 1 ? id[..(id.Length - n.Length - 1)] + "x" + n : id + "x" + n;
    }

    private static string Scalar(Random random) => random.Next(8) switch
    {
        0 => "null",
        1 => "true",
        2 => "\"\"",
        3 => "[]",
        4 => "{}",
        5 => Huge[random.Next(Huge.Length)],
        6 => "\"" + new string('x', random.Next(1, 40)) + "\"",
        _ => random.Next(-1000, 1000).ToString(CultureInfo.InvariantCulture),
    };

    private static JsonNode? Confused(JsonNode? node, Random random) => node switch
    {
        JsonObject => random.Next(3) switch { 0 => JsonValue.Create("object"), 1 => new JsonArray(), _ => null },
        JsonArray => random.Next(3) switch { 0 => new JsonObject { ["0"] = 1 }, 1 => JsonValue.Create("[]"), _ => null },
        JsonValue v when v.GetValueKind() == JsonValueKind.String => random.Next(4) switch
        {
            0 => JsonValue.Create(random.Next(-5, 100000)),
            1 => new JsonObject { ["value"] = v.GetValue<string>() },
            2 => new JsonArray(JsonValue.Create(v.GetValue<string>())),
            _ => JsonValue.Create(true),
        },
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => random.Next(3) switch
        {
            0 => JsonValue.Create(v.ToJsonString()),
            1 => JsonValue.Create("not a number"),
            _ => new JsonArray(),
        },
        _ => random.Next(3) switch { 0 => JsonValue.Create("true"), 1 => JsonValue.Create(0), _ => new JsonObject() },
    };

    /// <summary>Every node below the root, with how to replace or remove it.</summary>
    private static List<(JsonNode Parent, string? Key, int Index, JsonNode? Node)> Slots(JsonNode root)
    {
        var slots = new List<(JsonNode, string?, int, JsonNode?)>();
        void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (k, v) in o.ToList())
                    {
                        slots.Add((o, k, -1, v));
                        Walk(v);
                    }
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        slots.Add((a, null, i, a[i]));
                        Walk(a[i]);
                    }
                    break;
            }
        }
        Walk(root);
        return slots;
    }

    private static void Replace((JsonNode Parent, string? Key, int Index, JsonNode? Node) slot, JsonNode? value)
    {
        if (slot.Parent is JsonObject o) o[slot.Key!] = value;
        else ((JsonArray)slot.Parent)[slot.Index] = value;
    }

    private static byte[] MutateJson(Random random, Mutation kind, byte[] bytes)
    {
        switch (kind)
        {
            case Mutation.InvalidUtf8: return Insert(random, bytes, InvalidSequence(random), insideString: true);
            case Mutation.Truncated: return bytes.Length == 0 ? bytes : bytes[..random.Next(bytes.Length)];
            case Mutation.DuplicateKey: return DuplicateJsonKey(random, bytes);
        }

        try
        {
            return MutateTree(random, kind, bytes);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            // An earlier mutation already broke it (invalid UTF-8, truncated): break it some more at the byte level.
            return Insert(random, bytes, Encoding.UTF8.GetBytes(Scalar(random)), insideString: false);
        }
    }

    private static byte[] MutateTree(Random random, Mutation kind, byte[] bytes)
    {
        var root = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 100_000 });
        if (root is null) return bytes;
        var slots = Slots(root);
        if (slots.Count == 0) return bytes;
        var slot = slots[random.Next(slots.Count)];
        switch (kind)
        {
            case Mutation.TypeConfusion:
                Replace(slot, Confused(slot.Node?.DeepClone(), random));
                break;
            case Mutation.MissingField:
                if (slot.Parent is JsonObject o) o.Remove(slot.Key!);
                else ((JsonArray)slot.Parent).RemoveAt(slot.Index);
                break;
            case Mutation.ExtraField:
                var target = slots.Select(s => s.Node).OfType<JsonObject>().Prepend(root as JsonObject).Where(x => x is not null).ToList();
                if (target.Count > 0) target[random.Next(target.Count)]!["fuzz_" + random.Next(1000)] = JsonNode.Parse(Scalar(random));
                break;
            case Mutation.HugeNumber:
                return Substitute(root, slot, random, Huge[random.Next(Huge.Length)]);
            case Mutation.NegativeNumber:
                return Substitute(root, slot, random, Negative[random.Next(Negative.Length)]);
            case Mutation.DeepNesting:
                var depth = random.Next(4) switch { 0 => 65, 1 => 200, 2 => 5_000, _ => random.Next(2, 64) };
                return Substitute(root, slot, random,
                    random.Next(2) == 0 ? new string('[', depth) + "1" + new string(']', depth)
                        : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth));
            case Mutation.OversizeString:
                Replace(slot, JsonValue.Create(new string((char)('a' + random.Next(26)), OversizeLength(random))));
                break;
        }
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static int OversizeLength(Random random) => random.Next(100) switch
    {
        < 60 => 16 * 1024,
        < 90 => 64 * 1024,
        < 98 => 256 * 1024,
        _ => 1_100_000, // over the 1 MiB body limit: a 413
    };

    /// <summary>Puts raw JSON text where a node was (numbers System.Text.Json would refuse to hold).</summary>
    private static byte[] Substitute(JsonNode root, (JsonNode Parent, string? Key, int Index, JsonNode? Node) slot, Random random, string raw)
    {
        var marker = "\"__fuzz_" + random.Next() + "__\"";
        Replace(slot, JsonValue.Create(marker.Trim('"')));
        return Encoding.UTF8.GetBytes(root.ToJsonString().Replace(marker, raw, StringComparison.Ordinal));
    }

    private static byte[] InvalidSequence(Random random) => random.Next(6) switch
    {
        0 => [0xFF, 0xFE],
        1 => [0xC3, 0x28],
        2 => [0xED, 0xA0, 0x80], // an encoded surrogate
        3 => [0xE2, 0x82],
        4 => [0xC0, 0xAF], // overlong '/'
        _ => [0x80],
    };

    /// <summary>Inserts <paramref name="extra"/> at a random place, inside a string when asked (just after an opening quote).</summary>
    private static byte[] Insert(Random random, byte[] bytes, byte[] extra, bool insideString)
    {
        var at = random.Next(bytes.Length + 1);
        if (insideString)
        {
            var quotes = new List<int>();
            for (var i = 0; i < bytes.Length; i++) if (bytes[i] == (byte)'"') quotes.Add(i + 1);
            if (quotes.Count > 0) at = quotes[random.Next(quotes.Count)];
        }
        return [.. bytes.AsSpan(0, at), .. extra, .. bytes.AsSpan(at)];
    }

    /// <summary>Repeats a member of some object right after its opening brace: <c>{"k":other,"k":…}</c>.</summary>
    private static byte[] DuplicateJsonKey(Random random, byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var opens = new List<int>();
        for (var i = 0; i + 1 < text.Length; i++)
        {
            if (text[i] == '{')
            {
                var j = i + 1;
                while (j < text.Length && char.IsWhiteSpace(text[j])) j++;
                if (j < text.Length && text[j] == '"') opens.Add(j);
            }
        }
        if (opens.Count == 0) return bytes;
        var start = opens[random.Next(opens.Count)];
        var end = text.IndexOf('"', start + 1);
        if (end < 0) return bytes;
        var key = text[start..(end + 1)];
        return Encoding.UTF8.GetBytes(text[..start] + key + ":" + Scalar(random) + "," + text[start..]);
    }

    private static byte[] MutateForm(Random random, Mutation kind, byte[] bytes)
    {
        switch (kind)
        {
            case Mutation.InvalidUtf8:
                return random.Next(2) == 0 ? Insert(random, bytes, InvalidSequence(random), insideString: false)
                    : Insert(random, bytes, "%FF%FE%C3%28"u8.ToArray(), insideString: false);
            case Mutation.Truncated: return bytes.Length == 0 ? bytes : bytes[..random.Next(bytes.Length)];
        }
        var pairs = Encoding.Latin1.GetString(bytes).Split('&').Select(p => p.Split('=', 2)).Select(p => (Key: p[0], Value: p.Length > 1 ? p[1] : null)).ToList();
        if (pairs.Count == 0) return bytes;
        var i = random.Next(pairs.Count);
        switch (kind)
        {
            case Mutation.TypeConfusion:
                pairs[i] = random.Next(3) switch
                {
                    0 => (pairs[i].Key, "%5B%5D"),
                    1 => (pairs[i].Key + "[0][x]", pairs[i].Value),
                    _ => (pairs[i].Key, null),
                };
                break;
            case Mutation.MissingField:
                pairs.RemoveAt(i);
                break;
            case Mutation.ExtraField:
                pairs.Insert(i, ("fuzz_" + random.Next(1000), Uri.EscapeDataString(Scalar(random))));
                break;
            case Mutation.HugeNumber:
                pairs[i] = (pairs[i].Key, Uri.EscapeDataString(Huge[random.Next(Huge.Length)]));
                break;
            case Mutation.NegativeNumber:
                pairs[i] = (pairs[i].Key, Negative[random.Next(Negative.Length)]);
                break;
            case Mutation.DeepNesting:
                pairs[i] = (pairs[i].Key + string.Concat(Enumerable.Repeat("[a]", random.Next(2) == 0 ? 70 : 3_000)), pairs[i].Value);
                break;
            case Mutation.DuplicateKey:
                pairs.Insert(random.Next(pairs.Count + 1), (pairs[i].Key, Uri.EscapeDataString(Scalar(random))));
                break;
            case Mutation.OversizeString:
                pairs[i] = (pairs[i].Key, new string('z', OversizeLength(random)));
                break;
        }
        return Encoding.Latin1.GetBytes(string.Join('&', pairs.Select(p => p.Value is null ? p.Key : p.Key + "=" + p.Value)));
    }
}
