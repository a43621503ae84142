using Junction.Providers;

namespace Junction.Integrations;

/// <summary>
/// One tool Junction works with, declared by its own folder under <c>src/Junction/Integrations/</c>:
/// receiving its webhooks (<see cref="Source"/>: signature, mapping, enrichment, backfill, its kind for
/// ownership, its demo source) and delivering to it (<see cref="Destination"/>: client, desired-state
/// diff, read-back, config keys, defaults). The config loader, the planner, ownership, the demo,
/// backfill, the audit and the docs read these; nothing outside the folder names the tool except its
/// one line in <see cref="IntegrationRegistry"/>. docs/integrations.md walks through adding one.
/// </summary>
public interface IIntegration
{
    /// <summary>Its folder's name, as the docs list it (e.g. <c>Kit</c>).</summary>
    string Name { get; }

    /// <summary>What Junction receives from it; null when Junction only delivers to it.</summary>
    IWebhookProvider? Source => null;

    /// <summary>Every webhook source it has: <see cref="Source"/>, or several when the tool sends in more than one scheme (PayPal's REST webhooks and its classic IPN).</summary>
    IReadOnlyList<IWebhookProvider> Sources => Source is null ? [] : [Source];

    /// <summary>What Junction delivers to it; null when Junction only receives from it.</summary>
    DestinationDescriptor? Destination => null;

    /// <summary>How alerts reach people through it (<c>notifiers:</c>); null when it is not a notifier.</summary>
    Alerts.NotifierDescriptor? Notifier => null;

    /// <summary>How its subscriber export reads, for <c>junction import --from</c>; null when it has none Junction reads.</summary>
    Import.SubscriberExport? SubscriberExport => null;
}
