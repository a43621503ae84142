using System.Text.Json;

namespace Junction.Normalize;

/// <summary>The frame every mapper shares: read the body, then map one provider event type, naming the field on failure.</summary>
public static class Mapping
{
    /// <summary>The body as JSON; otherwise false, with the quarantine that says what was expected (<paramref name="what"/>).</summary>
    public static bool TryJson(RawInput raw, string what, out JsonElement root, out MapResult problem)
    {
        try
        {
            root = raw.Json();
            problem = null!;
            return true;
        }
        catch (JsonException ex)
        {
            root = default;
            problem = new MapResult.Quarantined($"body: expected {what} as JSON ({ex.Message})");
            return false;
        }
    }

    /// <summary>Runs <paramref name="map"/> for one provider event type; a <see cref="MappingException"/> becomes a quarantine naming the field.</summary>
    public static MapResult Typed(string providerType, Func<MapResult> map)
    {
        try
        {
            return map() with { ProviderType = providerType };
        }
        catch (MappingException ex)
        {
            return new MapResult.Quarantined(ex.Message) { ProviderType = providerType };
        }
    }
}
