using Junction.Dispatch;
using Junction.Providers;

namespace Junction.Integrations.Mailchimp;

/// <summary>Mailchimp: audience webhooks in, and members, tags and status out (Marketing API 3.0), read back for the audit.</summary>
public sealed class MailchimpIntegration : IIntegration
{
    public string Name => "Mailchimp";

    public Import.SubscriberExport? SubscriberExport => MailchimpExport.Layout;

    public IWebhookProvider? Source { get; } = new MailchimpProvider();

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = "mailchimp",
        Traits = DestinationTraits.Contacts with { Erases = true },
        BaseUrlFrom = DataCenter,
        Credentials = ["api_key"],
        // No request quota, 10 simultaneous connections (mailchimp.com/developer/marketing/docs/fundamentals).
        DefaultRate = 10,
        Maps = ["tags", "fields"],
        RequiredOptions = ["list_id"],
        Connector = (config, http, time) => new MailchimpConnector(config, http, time),
        ReadBack = (config, http, time) => new MailchimpReadBack(config, http, time),
    };

    // The data center is the API key's suffix (…-us21 → https://us21.api.mailchimp.com).
    private static (Uri?, string?, string?) DataCenter(IReadOnlyDictionary<string, string> credentials)
    {
        if (!credentials.TryGetValue("api_key", out var key)) return (null, null, null); // its absence is reported as such
        var dash = key.LastIndexOf('-');
        var dc = dash >= 0 ? key[(dash + 1)..] : "";
        return dc.Length is > 0 and <= 16 && dc.All(char.IsAsciiLetterOrDigit)
            ? (new Uri($"https://{dc.ToLowerInvariant()}.api.mailchimp.com"), null, null)
            : (null, "api_key", "expected a Mailchimp API key ending in -<data center> (e.g. …-us21), or set base_url");
    }
}
