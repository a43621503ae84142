using System.Text;
using System.Text.Json;
using Junction.Normalize;

namespace Junction.Integrations.Gumroad;

/// <summary>
/// A Gumroad ping as flat fields, whichever way it was sent. Gumroad posts form bodies by default,
/// nested hashes flattened with literal brackets (<c>url_params[utm_source]</c>, <c>card[type]</c>);
/// a resource subscription may ask for JSON instead (antiwork/gumroad
/// <c>post_to_individual_ping_endpoint_worker.rb</c>). JSON is flattened to the same keys so one
/// mapper reads both.
/// </summary>
internal static class GumroadPing
{
    public static Dictionary<string, string> Fields(ReadOnlySpan<byte> body)
    {
        var trimmed = body.TrimStart(" \t\r\n"u8);
        if (trimmed.Length > 0 && trimmed[0] == (byte)'{')
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            Flatten(doc.RootElement, "", fields);
            return fields;
        }
        return FormBody.Parse(Encoding.UTF8.GetString(body));
    }

    /// <summary>True for <c>true</c> as Gumroad writes booleans in both encodings.</summary>
    public static bool Flag(IReadOnlyDictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out var v) && v.Equals("true", StringComparison.OrdinalIgnoreCase);

    public static string? Get(IReadOnlyDictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

    /// <summary>The entries of a bracketed group (<c>url_params[utm_source]</c> → <c>utm_source</c>).</summary>
    public static Dictionary<string, string> Group(IReadOnlyDictionary<string, string> fields, string name)
    {
        var prefix = name + "[";
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in fields)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal) && key.EndsWith(']') && key.Length > prefix.Length + 1)
            {
                result[key[prefix.Length..^1]] = value;
            }
        }
        return result;
    }

    private static void Flatten(JsonElement e, string prefix, Dictionary<string, string> into)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Flatten(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}[{p.Name}]", into);
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray()) Flatten(item, prefix + "[]", into);
                break;
            case JsonValueKind.String:
                into[prefix] = e.GetString()!;
                break;
            case JsonValueKind.True:
                into[prefix] = "true";
                break;
            case JsonValueKind.False:
                into[prefix] = "false";
                break;
            case JsonValueKind.Null:
                into[prefix] = "";
                break;
            default:
                into[prefix] = e.GetRawText();
                break;
        }
    }
}
