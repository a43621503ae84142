using Junction.Import;

namespace Junction.Integrations.ActiveCampaign;

/// <summary>
/// ActiveCampaign's contact export (Contacts → Export, CSV): "Email", "First Name", "Last Name",
/// "Phone", "Tags" (comma-separated), "Date Created" and, when exported from a list, "Status"
/// (Active, Unconfirmed, Unsubscribed, Bounced).
/// </summary>
internal static class ActiveCampaignExport
{
    public static readonly SubscriberExport Layout = new()
    {
        Name = ActiveCampaignDestination.Type,
        DestinationType = ActiveCampaignDestination.Type,
        Columns = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Email"] = ImportFields.Email,
            ["First Name"] = ImportFields.FirstName,
            ["Last Name"] = ImportFields.LastName,
            ["Phone"] = ImportFields.Phone,
            ["Tags"] = ImportFields.Tags,
            ["Date Created"] = ImportFields.CreatedAt,
            ["Created Date"] = ImportFields.CreatedAt,
            ["Status"] = ImportFields.Status,
            ["Contact ID"] = ImportFields.Ignore,
            ["Organization"] = ImportFields.Ignore,
            ["Account"] = ImportFields.Ignore,
            ["Date Updated"] = ImportFields.Ignore,
            ["IP Address"] = ImportFields.Ignore,
        },
        Statuses = new Dictionary<string, StatusReading>(StringComparer.Ordinal)
        {
            ["active"] = new(true, true),
            ["unconfirmed"] = new(true, false),
            ["unsubscribed"] = new(false),
            ["bounced"] = new(null),
        },
    };
}
