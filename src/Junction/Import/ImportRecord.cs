using System.Text.Json.Serialization;

namespace Junction.Import;

/// <summary>
/// One accepted row of an export, as stored in the raw log (the body of its raw event): already
/// checked and put in Junction's terms by <see cref="Importer"/> (email trimmed, phone E.164, times
/// UTC, tags from the vocabulary), so the mapper only shapes events. The row number is not part of
/// it: the same person with the same data is the same raw event wherever they sit in the file.
/// </summary>
public sealed record ImportRecord
{
    /// <summary>csv, kit, mailchimp or activecampaign.</summary>
    public required string Format { get; init; }

    public required string Email { get; init; }
    public string? Name { get; init; }
    public string? Phone { get; init; }

    /// <summary>true: subscribed; false: unsubscribed; null: the export does not say.</summary>
    public bool? ConsentEmail { get; init; }

    public DateTimeOffset? ConsentedAt { get; init; }

    /// <summary>The double opt-in: false while unconfirmed at the email platform, null when it does not say.</summary>
    public bool? Confirmed { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Custom fields named with <c>--map COLUMN=field:NAME</c>: kept in the raw log.</summary>
    public SortedDictionary<string, string>? Fields { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(Normalize.UtcTimeConverter)])]
[JsonSerializable(typeof(ImportRecord))]
public sealed partial class ImportJson : JsonSerializerContext;
