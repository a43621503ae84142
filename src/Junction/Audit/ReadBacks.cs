using Junction.Dispatch;

namespace Junction.Audit;

/// <summary>Builds the audit's read-back for a configured state destination; null when its type has none yet.</summary>
public static class ReadBacks
{
    public static IDestinationReadBack? Create(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(time);
        // One line per type.
        return config.Type switch
        {
            DestinationTypes.Kit => new Dispatch.Destinations.Kit.KitReadBack(config, http, time),
            DestinationTypes.Mailchimp => new Dispatch.Destinations.Mailchimp.MailchimpReadBack(config, http, time),
            DestinationTypes.Teachable => new Dispatch.Destinations.Teachable.TeachableReadBack(config, http, time),
            _ => null,
        };
    }
}
