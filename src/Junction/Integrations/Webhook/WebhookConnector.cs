using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;
using Junction.Providers;
using Junction.Normalize;
using Junction.Observability;

namespace Junction.Integrations.Webhook;

/// <summary>
/// Outgoing webhook (event destination): POSTs each canonical event to <c>base_url</c> in the
/// Standard Webhooks payload envelope <c>{type, timestamp, data}</c>, signed per the spec
/// ("Signature scheme": <c>webhook-signature: v1,base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))</c>
/// keyed with the base64-decoded part of the <c>whsec_</c> secret in <c>credentials.secret</c>).
/// <c>webhook-id</c> is the task's idempotency key, so a retry or replay is the same message to
/// the receiver.
/// </summary>
public sealed class WebhookConnector(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationConnector
{
    /// <summary>The version of the outgoing payload shape; receivers can branch on it.</summary>
    public const string JunctionVersion = "2026-11-01";

    public DestinationConfig Config { get; } = config;

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        var attempt = new DestinationHttp(http, time);
        if (work.Event is not { } canonical) return attempt.Permanent("webhook: the task carries no canonical event");
        if (!Config.Credentials.TryGetValue("secret", out var secret) || WebhookSignatures.DecodeSecret(secret) is not { } key)
        {
            return attempt.Permanent($"destinations.{Config.Id}.credentials.secret: expected a Standard Webhooks secret: whsec_ followed by base64 (24 to 64 bytes)");
        }

        var body = Body(canonical);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Sign(key, work.IdempotencyKey, timestamp, body);
        var reply = await attempt.SendAsync(HttpMethod.Post, Config.BaseUrl, Config.BaseUrl.PathAndQuery, body, request =>
        {
            request.Headers.TryAddWithoutValidation("webhook-id", work.IdempotencyKey);
            request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
            request.Headers.TryAddWithoutValidation("webhook-signature", signature);
            request.Headers.TryAddWithoutValidation("Junction-Version", JunctionVersion);
        }, cancellationToken);

        // The spec asks receivers for a 2xx. A 3xx that reaches here (an HttpClient that follows no
        // redirects) is a wrong URL, so permanent like the other non-retryable statuses.
        return reply.IsSuccess ? attempt.Succeeded() : attempt.Failed(reply, "webhook");
    }

    /// <summary>The Standard Webhooks envelope around the canonical event JSON (docs/events.md shape).</summary>
    public static string Body(Junction.Canonical.CanonicalEvent canonical)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", canonical.Type);
            writer.WriteString("timestamp", Iso.Utc(canonical.OccurredAt));
            writer.WritePropertyName("data");
            writer.WriteRawValue(CanonicalJson.Serialize(canonical), skipInputValidation: true);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string Sign(byte[] key, string id, string timestamp, string body) => WebhookSignatures.Sign(key, id, timestamp, body);
}
