namespace Junction.Import;

/// <summary>
/// How one tool's subscriber export reads, for <c>junction import --from NAME</c>: which header
/// means which field, how its tags are listed, and what its status column says about consent.
/// Declared by the tool's integration folder (<see cref="Integrations.IIntegration.SubscriberExport"/>);
/// the generic layout is <see cref="Generic"/>. Headers match case-insensitively, trimmed.
/// </summary>
public sealed record SubscriberExport
{
    /// <summary>The <c>--from</c> value.</summary>
    public required string Name { get; init; }

    /// <summary>Header → field (<see cref="ImportFields"/>).</summary>
    public required IReadOnlyDictionary<string, string> Columns { get; init; }

    /// <summary>What separates tags in the tags column.</summary>
    public char TagSeparator { get; init; } = ',';

    /// <summary>Status value (lower case) → what it says; a value not listed refuses the row.</summary>
    public IReadOnlyDictionary<string, StatusReading> Statuses { get; init; } = new Dictionary<string, StatusReading>(StringComparer.Ordinal);

    /// <summary>Consent when the row says nothing (true for a file that lists only subscribed people).</summary>
    public bool? DefaultConsent { get; init; }

    /// <summary>Destinations of this type: their <c>tags:</c> map, read backwards, turns the tool's tag names into vocabulary tags.</summary>
    public string? DestinationType { get; init; }

    /// <summary>False: a phone that is not E.164 is dropped (tools keep numbers as typed); true: it refuses the row.</summary>
    public bool StrictPhone { get; init; }

    /// <summary>
    /// <c>--from csv</c>: the contract's own columns (docs/import-export.md); any other column needs
    /// <c>--map</c> or is reported as not used.
    /// </summary>
    public static readonly SubscriberExport Generic = new()
    {
        Name = "csv",
        Columns = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["email"] = ImportFields.Email,
            ["name"] = ImportFields.Name,
            ["phone"] = ImportFields.Phone,
            ["consent_email"] = ImportFields.ConsentEmail,
            ["consented_at"] = ImportFields.ConsentedAt,
            ["tags"] = ImportFields.Tags,
            ["created_at"] = ImportFields.CreatedAt,
        },
        TagSeparator = ';',
        StrictPhone = true,
    };
}

/// <summary>What a status value says: consent (null: nothing) and whether the double opt-in was confirmed.</summary>
public sealed record StatusReading(bool? Consent, bool? Confirmed = null);

/// <summary>The fields a column can be mapped to (<c>--map COLUMN=FIELD</c>).</summary>
public static class ImportFields
{
    public const string Email = "email";
    public const string Name = "name";
    public const string FirstName = "first_name";
    public const string LastName = "last_name";
    public const string Phone = "phone";
    public const string ConsentEmail = "consent_email";
    public const string ConsentedAt = "consented_at";
    public const string ConfirmedAt = "confirmed_at";
    public const string CreatedAt = "created_at";
    public const string Tags = "tags";
    public const string Status = "status";
    public const string UnsubscribedAt = "unsubscribed_at";
    public const string CleanedAt = "cleaned_at";
    public const string Ignore = "ignore";

    /// <summary><c>field:NAME</c>: a custom field, kept with the row in the raw log.</summary>
    public const string CustomPrefix = "field:";

    public static readonly IReadOnlyList<string> All =
        [Email, Name, FirstName, LastName, Phone, ConsentEmail, ConsentedAt, ConfirmedAt, CreatedAt, Tags, Status, UnsubscribedAt, CleanedAt, Ignore];

    public static bool IsKnown(string field) =>
        All.Contains(field, StringComparer.Ordinal) || (field.StartsWith(CustomPrefix, StringComparison.Ordinal) && field.Length > CustomPrefix.Length);
}
