using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Junction.Canonical;
using Junction.Observability;

namespace Junction.Normalize;

/// <summary>Canonical events as stored and served: snake_case, times as UTC ISO-8601 with Z (docs/events.md).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, Converters = [typeof(UtcTimeConverter)])]
[JsonSerializable(typeof(CanonicalEvent))]
public sealed partial class CanonicalJson : JsonSerializerContext
{
    public static string Serialize(CanonicalEvent e) => JsonSerializer.Serialize(e, Default.CanonicalEvent);

    public static CanonicalEvent Deserialize(string json)
    {
        var e = JsonSerializer.Deserialize(json, Default.CanonicalEvent) ?? throw new JsonException("not a canonical event");
        // A stored null list (older rows, or a mapper that left one unset) reads as empty, as the model declares.
        if (e.Order is { } o && (o.RelatedIds is null || o.Items is null)) e = e with { Order = o with { RelatedIds = o.RelatedIds ?? [], Items = o.Items ?? [] } };
        if (e.Tags is null || e.Consent is null) e = e with { Tags = e.Tags ?? [], Consent = e.Consent ?? [] };
        return e;
    }
}

public sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Iso.Utc(value));
}
