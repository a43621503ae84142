using System.Globalization;
using System.Text.Json;

namespace Junction.Normalize;

/// <summary>
/// Small readers for provider JSON that say exactly which field was missing or malformed
/// (<see cref="MappingException"/>), so a quarantine reason names the field and what was expected.
/// </summary>
public static class JsonRead
{
    public static JsonElement? Path(this JsonElement root, string path)
    {
        var current = root;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out var next)) return null;
            current = next;
        }
        return current.ValueKind == JsonValueKind.Null ? null : current;
    }

    /// <summary>A string, or a number rendered as text (ids arrive as either); null when absent.</summary>
    public static string? Str(this JsonElement root, string path) => root.Path(path) switch
    {
        { ValueKind: JsonValueKind.String } e => e.GetString(),
        { ValueKind: JsonValueKind.Number } e => e.GetRawText(),
        { ValueKind: JsonValueKind.True } => "true",
        { ValueKind: JsonValueKind.False } => "false",
        _ => null,
    };

    public static string RequiredStr(this JsonElement root, string path) =>
        root.Str(path) is { Length: > 0 } s ? s : throw new MappingException($"{path}: required, expected a non-empty string or id");

    public static long? Whole(this JsonElement root, string path) => root.Path(path) switch
    {
        { ValueKind: JsonValueKind.Number } e when e.TryGetInt64(out var v) => v,
        { ValueKind: JsonValueKind.String } e when long.TryParse(e.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) => v,
        null => null,
        _ => throw new MappingException($"{path}: expected a whole number"),
    };

    public static long RequiredLong(this JsonElement root, string path) =>
        root.Whole(path) ?? throw new MappingException($"{path}: required, expected a whole number");

    public static bool? Bool(this JsonElement root, string path) => root.Path(path) switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { ValueKind: JsonValueKind.String } e when bool.TryParse(e.GetString(), out var b) => b,
        _ => null,
    };

    public static IEnumerable<JsonElement> Array(this JsonElement root, string path) =>
        root.Path(path) is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray() : [];

    /// <summary>A Unix-seconds field as UTC; a number outside years 1–9999 is a mapping error naming the field, not an exception.</summary>
    public static DateTimeOffset? UnixSeconds(this JsonElement root, string path) =>
        root.Whole(path) is not { } s ? null
        : s is >= MinUnixSeconds and <= MaxUnixSeconds ? DateTimeOffset.FromUnixTimeSeconds(s)
        : throw new MappingException($"{path}: expected a Unix time in seconds; got {s}, outside years 1 to 9999");

    /// <summary>A Unix-milliseconds field as UTC, checked like <see cref="UnixSeconds"/>.</summary>
    public static DateTimeOffset? UnixMilliseconds(this JsonElement root, string path) =>
        root.Whole(path) is not { } ms ? null
        : ms is >= MinUnixSeconds * 1000 and <= MaxUnixSeconds * 1000 + 999 ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
        : throw new MappingException($"{path}: expected a Unix time in milliseconds; got {ms}, outside years 1 to 9999");

    // DateTimeOffset's range: 0001-01-01 to 9999-12-31T23:59:59.
    private const long MinUnixSeconds = -62_135_596_800;
    private const long MaxUnixSeconds = 253_402_300_799;

    /// <summary>An ISO-8601 field, keeping the offset it was written with.</summary>
    public static DateTimeOffset? Time(this JsonElement root, string path)
    {
        var text = root.Str(path);
        if (text is null) return null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw new MappingException($"{path}: expected an ISO-8601 time; got '{text}'");
    }

    /// <summary>A flat object of string values (metadata, custom_data) as a dictionary.</summary>
    public static Dictionary<string, string> StringMap(this JsonElement root, string path)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (root.Path(path) is { ValueKind: JsonValueKind.Object } obj)
        {
            foreach (var p in obj.EnumerateObject())
            {
                if (p.Value.ValueKind is JsonValueKind.String) result[p.Name] = p.Value.GetString()!;
                else if (p.Value.ValueKind is JsonValueKind.Number) result[p.Name] = p.Value.GetRawText();
            }
        }
        return result;
    }
}
