using Junction.Import;

namespace Junction.Integrations.Kit;

/// <summary>
/// Kit's subscriber export (Subscribers → Export, CSV): one row per subscriber with the email, first
/// name, the subscriber state, when they were added, their tags (comma-separated) and custom fields.
/// Older ConvertKit exports name the email column <c>email_address</c>; both are read.
/// </summary>
internal static class KitExport
{
    public static readonly SubscriberExport Layout = new()
    {
        Name = "kit",
        DestinationType = "kit",
        Columns = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["email"] = ImportFields.Email,
            ["email_address"] = ImportFields.Email,
            ["first_name"] = ImportFields.FirstName,
            ["last_name"] = ImportFields.LastName,
            ["state"] = ImportFields.Status,
            ["status"] = ImportFields.Status,
            ["created_at"] = ImportFields.CreatedAt,
            ["confirmed_at"] = ImportFields.ConfirmedAt,
            ["tags"] = ImportFields.Tags,
        },
        Statuses = new Dictionary<string, StatusReading>(StringComparer.Ordinal)
        {
            // Kit's subscriber states (developers.kit.com, "List subscribers": active, inactive, bounced, complained, cancelled).
            ["active"] = new(true, true),
            ["cold"] = new(true, true),
            ["unconfirmed"] = new(true, false),
            ["inactive"] = new(false),
            ["cancelled"] = new(false),
            ["canceled"] = new(false),
            ["unsubscribed"] = new(false),
            ["complained"] = new(false),
            ["bounced"] = new(null),
        },
    };
}
