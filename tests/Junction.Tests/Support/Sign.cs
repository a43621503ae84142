using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Junction.Tests.Support;

/// <summary>Signs requests the way each provider does, written from the providers' docs, not from Junction's code.</summary>
public static class Sign
{
    public static string Stripe(string secret, byte[] body, long timestamp)
    {
        var t = timestamp.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes(t + "."), .. body]);
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    public static string Shopify(string secret, byte[] body) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static string StandardWebhooks(string secret, string id, long timestamp, byte[] body)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.");
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, (byte[])[.. prefix, .. body]));
    }

    /// <summary>Zoom: <c>v0=</c> hex HMAC-SHA256 with the Secret Token over <c>v0:{timestamp}:{raw body}</c>.</summary>
    public static string Zoom(string secretToken, long timestamp, byte[] body)
    {
        var prefix = Encoding.UTF8.GetBytes($"v0:{timestamp.ToString(CultureInfo.InvariantCulture)}:");
        return "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secretToken), (byte[])[.. prefix, .. body]));
    }
}

/// <summary>Payloads shaped like the providers' documented events.</summary>
public static class Payloads
{
    /// <summary>A Stripe <c>payment_intent.succeeded</c> event (Stripe API reference, Event object).</summary>
    public static byte[] StripePaymentIntentSucceeded(string eventId, long created = 1_795_000_000, bool livemode = false) =>
        Encoding.UTF8.GetBytes($$"""
        {
          "id": "{{eventId}}",
          "object": "event",
          "api_version": "2024-06-20",
          "created": {{created}},
          "data": {
            "object": {
              "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
              "object": "payment_intent",
              "amount": 4900,
              "amount_received": 4900,
              "currency": "usd",
              "customer": "cus_NffrFeUfNV2Hib",
              "receipt_email": "Ada.Lovelace@example.com",
              "status": "succeeded",
              "metadata": {"utm_source": "ig", "utm_campaign": "launch"}
            }
          },
          "livemode": {{(livemode ? "true" : "false")}},
          "pending_webhooks": 1,
          "request": {"id": "req_EfsZpKfU0UlfNT", "idempotency_key": "a8d1c7f0-2f7e-4f34-bd1b-9c5e3cd0d9a1"},
          "type": "payment_intent.succeeded"
        }
        """);

    /// <summary>A Shopify <c>orders/paid</c> body (trimmed to the fields that matter).</summary>
    public static byte[] ShopifyOrderPaid(long orderId) =>
        Encoding.UTF8.GetBytes($$"""
        {"id":{{orderId}},"admin_graphql_api_id":"gid://shopify/Order/{{orderId}}","email":"buyer@example.com",
         "created_at":"2026-11-20T10:00:00-05:00","currency":"USD","financial_status":"paid","total_price":"49.00",
         "landing_site":"/products/course?utm_source=ig&utm_campaign=launch",
         "line_items":[{"id":1,"sku":"COURSE-PRO","product_id":632910392,"quantity":1,"price":"49.00"}]}
        """);

    public static byte[] StandardWebhooksEvent(string type) =>
        Encoding.UTF8.GetBytes($$$"""{"type":"{{{type}}}","timestamp":"2026-11-20T10:00:00Z","data":{"email":"lead@example.com"}}""");
}
