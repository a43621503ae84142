using System.Text;
using System.Text.Json;
using Junction.Canonical;

namespace Junction.Normalize;

/// <summary>A stored raw event as a mapper sees it, plus whatever enrichment has been fetched for it.</summary>
public sealed record RawInput
{
    public required string RawId { get; init; }
    public required string Source { get; init; }
    public required string Provider { get; init; }
    public required byte[] Body { get; init; }

    /// <summary>The headers kept at intake, lower-case names.</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    public required string ContentType { get; init; }
    public required string TraceId { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public required string DedupKey { get; init; }

    /// <summary>True when the source has API credentials, so a thin payload can ask for enrichment.</summary>
    public bool CanEnrich { get; init; }

    /// <summary>
    /// The source's configured <c>api_base_url</c>, when set: the one config value a mapper may read,
    /// e.g. to mark events of a source pointed at a provider's sandbox API as test mode.
    /// </summary>
    public string? ApiBaseUrl { get; init; }

    /// <summary>Responses fetched from the provider's API, by <see cref="EnrichmentRequest.Key"/>.</summary>
    public IReadOnlyDictionary<string, JsonElement> Enrichment { get; init; } = new Dictionary<string, JsonElement>();

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;

    public bool IsForm => ContentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);

    private JsonElement? _json;

    /// <summary>The body as JSON, parsed once; throws <see cref="JsonException"/> when it is not.</summary>
    public JsonElement Json() => _json ??= JsonDocument.Parse(Body).RootElement;

    /// <summary>The body as form fields (last value wins), keys exactly as sent (e.g. <c>card[type]</c>).</summary>
    public IReadOnlyDictionary<string, string> Form() => FormBody.Parse(Encoding.UTF8.GetString(Body));

    /// <summary>A canonical event from this raw event, with the bookkeeping fields filled in.</summary>
    public CanonicalEvent Event(string type, string factKey, DateTimeOffset occurredAt, Subject subject, bool testMode = false, string? providerType = null) => new()
    {
        Id = CanonicalEvent.MakeId(Source, factKey),
        RawId = RawId,
        Source = Source,
        Provider = Provider,
        Type = type,
        ProviderType = providerType,
        OccurredAt = occurredAt.ToUniversalTime(),
        OriginalTimezone = occurredAt.Offset == TimeSpan.Zero ? null : FormatOffset(occurredAt.Offset),
        TraceId = TraceId,
        Subject = subject,
        TestMode = testMode,
    };

    public static string FormatOffset(TimeSpan offset) =>
        (offset < TimeSpan.Zero ? "-" : "+") + offset.Duration().ToString(@"hh\:mm", System.Globalization.CultureInfo.InvariantCulture);
}

public static class FormBody
{
    public static Dictionary<string, string> Parse(string body)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in body.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? "" : pair[(eq + 1)..];
            result[Unescape(key)] = Unescape(value);
        }
        return result;
    }

    private static string Unescape(string s)
    {
        try
        {
            return Uri.UnescapeDataString(s.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return s;
        }
    }
}

/// <summary>What a mapper made of a raw event.</summary>
public abstract record MapResult
{
    /// <summary>The provider's own event type (for drift reports and the quarantine list).</summary>
    public string? ProviderType { get; init; }

    /// <summary>One or more canonical events.</summary>
    public sealed record Mapped(IReadOnlyList<CanonicalEvent> Events) : MapResult;

    /// <summary>Nothing Junction uses (an event type it does not consume): recorded, not quarantined.</summary>
    public sealed record Ignored(string Reason) : MapResult;

    /// <summary>Malformed or unmappable: kept in quarantine with the reason (which field, what was expected).</summary>
    public sealed record Quarantined(string Reason) : MapResult;

    /// <summary>The payload is thin; fetch these from the provider's API and map again.</summary>
    public sealed record NeedsEnrichment(IReadOnlyList<EnrichmentRequest> Requests) : MapResult;
}

/// <summary>A GET against the provider's API (relative to the source's api base URL), stored under <see cref="Key"/>.</summary>
public sealed record EnrichmentRequest(string Key, string PathAndQuery);

/// <summary>Turns one provider's raw events into canonical events. Pure: no I/O, no clock.</summary>
public interface IPayloadMapper
{
    MapResult Map(RawInput raw);
}

/// <summary>Thrown by mapping helpers when a required field is missing or of the wrong shape; becomes a quarantine reason.</summary>
public sealed class MappingException(string reason) : Exception(reason);
