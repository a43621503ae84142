using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Capture;

/// <summary>
/// Maps a body in the generic canonical JSON shape (docs/events.md, "Canonical events API") to one
/// canonical event, with the same validation as POST /v1/events: every bad field is named in the
/// quarantine reason. With <c>envelope</c> (Standard Webhooks), the spec's recommended payload
/// <c>{"type", "timestamp", "data": {…}}</c> is accepted too: the event's fields are read from
/// <c>data</c>, <c>timestamp</c> is the time when <c>data.occurred_at</c> is absent. A sender's type
/// that is not a canonical type is recorded as ignored (it is not an error to send other events).
/// </summary>
public sealed class CanonicalJsonMapper(bool envelope) : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        JsonElement root;
        try
        {
            root = raw.Json();
        }
        catch (JsonException ex)
        {
            return new MapResult.Quarantined($"body: expected a JSON object in the canonical event shape ({ex.Message})");
        }
        if (envelope) root = Unwrap(root);

        var type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (envelope && type is { Length: > 0 } && !EventTypes.All.Contains(type))
        {
            return new MapResult.Ignored($"type '{type}' is not a canonical event type; expected one of {string.Join(", ", EventTypes.All.Order(StringComparer.Ordinal))}")
            {
                ProviderType = type,
            };
        }
        if (CanonicalInput.Parse(root, out var errors) is not { } posted)
        {
            return new MapResult.Quarantined(CanonicalInput.Describe(errors)) { ProviderType = type };
        }
        return new MapResult.Mapped([CanonicalInput.Complete(posted, raw)]) { ProviderType = type };
    }

    /// <summary>The Standard Webhooks envelope's <c>data</c> with <c>type</c>, <c>id</c> and the time lifted into it.</summary>
    internal static JsonElement Unwrap(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || root.TryGetProperty("subject", out _)
            || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            return root;
        }
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var p in data.EnumerateObject()) p.WriteTo(w);
            foreach (var (outer, inner) in new[] { ("type", "type"), ("id", "id"), ("timestamp", "occurred_at") })
            {
                if (!data.TryGetProperty(inner, out _) && root.TryGetProperty(outer, out var v))
                {
                    w.WritePropertyName(inner);
                    v.WriteTo(w);
                }
            }
            w.WriteEndObject();
        }
        return JsonDocument.Parse(buffer.WrittenMemory).RootElement;
    }
}
