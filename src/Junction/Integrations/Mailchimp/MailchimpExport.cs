using Junction.Import;

namespace Junction.Integrations.Mailchimp;

/// <summary>
/// Mailchimp's audience export: a zip of three CSVs (subscribed, unsubscribed, cleaned) with the
/// audience's merge fields ("Email Address", "First Name", "Last Name", "Phone Number" …) then
/// Mailchimp's own columns. Everyone in the subscribed file is subscribed; the unsubscribed file
/// adds UNSUB_TIME (consent withdrawn then), the cleaned file CLEAN_TIME (bounced: no consent change).
/// TAGS lists the member's tags as quoted, comma-separated names.
/// </summary>
internal static class MailchimpExport
{
    public static readonly SubscriberExport Layout = new()
    {
        Name = "mailchimp",
        DestinationType = "mailchimp",
        DefaultConsent = true,
        Columns = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Email Address"] = ImportFields.Email,
            ["First Name"] = ImportFields.FirstName,
            ["Last Name"] = ImportFields.LastName,
            ["Phone Number"] = ImportFields.Phone,
            ["OPTIN_TIME"] = ImportFields.CreatedAt,
            ["CONFIRM_TIME"] = ImportFields.ConfirmedAt,
            ["UNSUB_TIME"] = ImportFields.UnsubscribedAt,
            ["CLEAN_TIME"] = ImportFields.CleanedAt,
            ["TAGS"] = ImportFields.Tags,
            // Read but not used: ratings, addresses, IPs, geography and Mailchimp's ids stay in Mailchimp.
            ["Address"] = ImportFields.Ignore,
            ["Birthday"] = ImportFields.Ignore,
            ["MEMBER_RATING"] = ImportFields.Ignore,
            ["OPTIN_IP"] = ImportFields.Ignore,
            ["CONFIRM_IP"] = ImportFields.Ignore,
            ["LATITUDE"] = ImportFields.Ignore,
            ["LONGITUDE"] = ImportFields.Ignore,
            ["GMTOFF"] = ImportFields.Ignore,
            ["DSTOFF"] = ImportFields.Ignore,
            ["TIMEZONE"] = ImportFields.Ignore,
            ["CC"] = ImportFields.Ignore,
            ["REGION"] = ImportFields.Ignore,
            ["LAST_CHANGED"] = ImportFields.Ignore,
            ["LEID"] = ImportFields.Ignore,
            ["EUID"] = ImportFields.Ignore,
            ["NOTES"] = ImportFields.Ignore,
            ["UNSUB_CAMPAIGN_TITLE"] = ImportFields.Ignore,
            ["UNSUB_CAMPAIGN_ID"] = ImportFields.Ignore,
            ["UNSUB_REASON"] = ImportFields.Ignore,
            ["UNSUB_REASON_OTHER"] = ImportFields.Ignore,
            ["CLEAN_CAMPAIGN_TITLE"] = ImportFields.Ignore,
            ["CLEAN_CAMPAIGN_ID"] = ImportFields.Ignore,
        },
    };
}
