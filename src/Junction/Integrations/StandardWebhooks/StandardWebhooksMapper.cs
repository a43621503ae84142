using Junction.Capture;
using Junction.Normalize;

namespace Junction.Integrations.StandardWebhooks;

/// <summary>
/// Standard Webhooks (standardwebhooks.com, spec "Payload structure") carry whatever the sender
/// defines; Junction reads them in the generic canonical JSON shape, flat or inside the spec's
/// recommended <c>{type, timestamp, data}</c> envelope, validated like POST /v1/events
/// (<see cref="CanonicalJsonMapper"/>). Invalid → quarantined naming each field; a non-canonical
/// type → ignored.
/// </summary>
public sealed class StandardWebhooksMapper : IPayloadMapper
{
    private readonly CanonicalJsonMapper _inner = new(envelope: true);

    public MapResult Map(RawInput raw) => _inner.Map(raw);
}
