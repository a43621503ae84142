using Junction.Dispatch;
using Junction.Providers;

namespace Junction.Integrations.Kit;

/// <summary>Kit (ConvertKit): subscriber webhooks in, and subscribers, tags and consent out (API v4), read back for the audit.</summary>
public sealed class KitIntegration : IIntegration
{
    public string Name => "Kit";

    public Import.SubscriberExport? SubscriberExport => KitExport.Layout;

    public IWebhookProvider? Source { get; } = new KitProvider();

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = "kit",
        Traits = DestinationTraits.Contacts with { Erases = true },
        DefaultBaseUrl = "https://api.kit.com",
        Credentials = ["api_key"],
        // 120 requests / 60 s per API key (developers.kit.com/api-reference/rate-limits).
        DefaultRate = 2,
        Maps = ["tags", "fields"],
        OptionalOptions = ["double_opt_in_form", "subscribe_form"],
        Connector = (config, http, time) => new KitConnector(config, http, time),
        ReadBack = (config, http, time) => new KitReadBack(config, http, time),
    };
}
