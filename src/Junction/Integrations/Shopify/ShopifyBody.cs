using System.Security.Cryptography;
using System.Text.Json;

namespace Junction.Integrations.Shopify;

/// <summary>
/// What the signed body says, as opposed to the unsigned headers. Shopify signs only the body
/// (shopify.dev/docs/apps/build/webhooks/verify-deliveries): <c>X-Shopify-Topic</c> and
/// <c>X-Shopify-Webhook-Id</c> can be rewritten by whoever captured one delivery. So the topic must
/// agree with the body's shape, and the dedup key is taken from the body.
/// </summary>
internal static class ShopifyBody
{
    /// <summary>Null when the body fits the topic, else what does not (field names only, never values).</summary>
    public static string? TopicMismatch(string topic, JsonElement o)
    {
        if (o.ValueKind != JsonValueKind.Object) return "the body is not a JSON object";
        var isOrder = Has(o, "financial_status") && !Has(o, "order_id");
        switch (topic)
        {
            case "orders/paid":
                return isOrder && Str(o, "financial_status") is "paid" or "partially_paid"
                    ? null : "orders/paid needs an order body whose financial_status is paid or partially_paid";
            case "orders/fulfilled":
                return isOrder && Str(o, "fulfillment_status") == "fulfilled"
                    ? null : "orders/fulfilled needs an order body whose fulfillment_status is fulfilled";
            case var t when t.StartsWith("orders/", StringComparison.Ordinal):
                return isOrder && Has(o, "id") ? null : $"{topic} needs an order body (id, financial_status)";
            case "refunds/create":
                return Has(o, "id") && Has(o, "order_id") && Has(o, "refund_line_items") && !Has(o, "financial_status")
                    ? null : "refunds/create needs a refund body (id, order_id, refund_line_items)";
            case "fulfillments/create" or "fulfillments/update":
                return Has(o, "id") && Has(o, "order_id") && !Has(o, "refund_line_items") && !Has(o, "financial_status")
                    ? null : $"{topic} needs a fulfillment body (id, order_id)";
            case "checkouts/create" or "checkouts/update":
                return Has(o, "token") && !Has(o, "financial_status") && !Has(o, "order_id")
                    ? null : $"{topic} needs a checkout body (token, no financial_status)";
            case var t when t.StartsWith("disputes/", StringComparison.Ordinal):
                return Has(o, "id") && Has(o, "order_id") && Has(o, "initiated_at") && !Has(o, "financial_status")
                    ? null : $"{topic} needs a dispute body (id, order_id, initiated_at)";
            default:
                return null; // topics Junction does not map carry no meaning to forge
        }
    }

    /// <summary>
    /// topic, resource id and the resource's own version (updated_at, or a dispute's status): a
    /// redelivery (same payload, Shopify's docs) and a replay under a fresh webhook id give the same key.
    /// Without an id, the body's SHA-256.
    /// </summary>
    public static string DedupKey(string topic, JsonElement o, ReadOnlySpan<byte> body)
    {
        var id = o.ValueKind == JsonValueKind.Object ? (Str(o, "id") ?? Str(o, "token")) : null;
        if (id is null) return $"{topic}:sha256:{Convert.ToHexStringLower(SHA256.HashData(body))}";
        var version = Str(o, "updated_at") ?? Str(o, "status") ?? Str(o, "created_at");
        return version is null ? $"{topic}:{id}" : $"{topic}:{id}@{version}";
    }

    private static bool Has(JsonElement o, string name) => o.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    private static string? Str(JsonElement o, string name) => o.TryGetProperty(name, out var v)
        ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null }
        : null;
}
