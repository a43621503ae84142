using Junction.Normalize;

namespace Junction.Providers.StandardWebhooks;

/// <summary>
/// Standard Webhooks carry whatever the sender defines. Their mapping to canonical events (a
/// generic canonical-JSON shape) comes with the capture sources; until then they are kept in the
/// raw log and recorded as ignored, so a later rebuild or retry can map them.
/// </summary>
public sealed class StandardWebhooksMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw) =>
        new MapResult.Ignored("standard-webhooks payloads are not mapped to canonical events yet (generic canonical JSON mapping is planned)");
}
