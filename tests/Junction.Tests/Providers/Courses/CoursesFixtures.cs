using System.Security.Cryptography;
using System.Text;

namespace Junction.Tests.Providers.Courses;

/// <summary>
/// Course platform payloads shaped as each provider documents them (sources named per builder), and
/// Thinkific's signature written from its description with <see cref="HMACSHA256"/>.
/// </summary>
internal static class CoursesFixtures
{
    /// <summary>X-Thinkific-Hmac-Sha256: lowercase hex HMAC-SHA256(API key or client secret, raw body).</summary>
    public static string ThinkificSignature(string secret, string body)
    {
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        return Convert.ToHexStringLower(hmac.ComputeHash(Encoding.UTF8.GetBytes(body)));
    }

    // ---- Thinkific: envelope {id, resource, action, tenant_id, created_at, payload}
    // (support.thinkific.dev Webhooks Documentation; enrollment payload from the documented samples).

    public static string ThinkificEnvelope(string id, string resource, string action, string createdAt, string payload) => $$"""
        {
          "id": "{{id}}",
          "resource": "{{resource}}",
          "action": "{{action}}",
          "tenant_id": "3",
          "created_at": "{{createdAt}}",
          "payload": {{payload}}
        }
        """;

    public static string ThinkificEnrollment(string action = "created", string id = "20190131191810790022472", string createdAt = "2026-11-20T09:18:10.768-05:00") =>
        ThinkificEnvelope(id, "enrollment", action, createdAt, """
            {
              "activated_at": "2026-11-20T14:18:10.768Z",
              "completed_at": null,
              "course": {"id": 68, "name": "Course Pro"},
              "course_id": 68,
              "created_at": "2026-11-20T14:18:10.767Z",
              "expiry_date": "2027-11-20T14:18:10.767Z",
              "free_trial": false,
              "id": 3,
              "percentage_completed": "0",
              "started_at": "2026-11-20T14:18:10.768Z",
              "updated_at": "2026-11-20T14:18:10.768Z",
              "user": {"email": "Ada.Lovelace@Example.com", "first_name": "Ada", "id": 94, "last_name": "Lovelace"}
            }
            """);

    public static string ThinkificOrder(string id = "20180126172320940835610") =>
        ThinkificEnvelope(id, "order", "created", "2026-11-20T22:23:20.808Z", """
            {
              "affiliate_referral_code": null,
              "amount_cents": 5000,
              "amount_dollars": 50,
              "billing_name": "Robert Smith",
              "coupon": null,
              "created_at": "2026-11-20T22:23:18.400Z",
              "id": 19796,
              "order_number": 1010,
              "payment_type": "one-time",
              "product_id": 1,
              "product_name": "Introduction to Webhooks",
              "status": "Complete",
              "user": {"email": "ninjas@thinkific.com", "first_name": "Robert", "id": 123456, "last_name": "Smith"}
            }
            """);

    public static string ThinkificRefund(string id = "20181127015208463391201") =>
        ThinkificEnvelope(id, "order_transaction", "refunded", "2026-11-22T10:00:00.000Z", """
            {
              "id": 22,
              "created_at": "2026-11-20T22:23:18.000Z",
              "amount": 5000,
              "action": "refund",
              "currency": "usd",
              "payment_provider": "thinkific_payments",
              "refunded": true,
              "refunded_amount": 2000,
              "order": {
                "id": 19796,
                "order_number": "1010",
                "amount_cents": 5000,
                "product_name": "Introduction to Webhooks",
                "user": {"id": 123456, "first_name": "Robert", "last_name": "Smith", "email": "ninjas@thinkific.com"}
              }
            }
            """);

    // ---- Teachable: {type, id, livemode, created, hook_event_id, object}; Sale.created arrives as an
    // array of one (zdb/discourse-teachable-invite spec/fixtures/sale_created.json).

    public static string TeachableSale(long saleId = 18900212) => $$"""
        [
          {
            "type": "Sale.created",
            "id": {{saleId}},
            "livemode": true,
            "created": "2026-11-20T20:05:54+01:00",
            "hook_event_id": 1,
            "object": {
              "id": {{saleId}},
              "price": 9900,
              "currency": "USD",
              "is_active": true,
              "is_recurring": false,
              "user_id": 15747624,
              "school_id": 145222,
              "final_price": 7900,
              "course": {"id": 302950, "name": "Overcoming Social Anxiety"},
              "product": {"id": 863254, "is_recurring": false, "price": 9900, "name": "Social Anxiety Course", "currency": "USD"},
              "user": {"id": 15747624, "role": "student", "email": "Webhook@Mailinator.com", "name": "Webhooktest", "school_id": 145222,
                       "src": null, "unsubscribe_from_marketing_emails": true},
              "coupon": null,
              "affiliate": null,
              "transactions": []
            }
          }
        ]
        """;

    public static string TeachableRefund(long saleId = 18900212) => $$"""
        {
          "type": "Transaction.refunded",
          "id": 88001,
          "livemode": true,
          "created": "2026-11-22T08:00:00+00:00",
          "hook_event_id": 7,
          "object": {
            "id": 88001,
            "user_id": 15747624,
            "pricing_plan_id": 7001,
            "sale_id": {{saleId}},
            "created_at": "2026-11-20T19:05:54Z",
            "purchased_at": "2026-11-20T19:05:54Z",
            "charge": 7900,
            "final_price": 7900,
            "currency": "USD",
            "tax_charge": 0,
            "revenue": 7900,
            "status": "paid",
            "has_chargeback": false,
            "refunded_at": "2026-11-22T07:59:58Z",
            "amount_refunded": 7900,
            "user": {"id": 15747624, "email": "webhook@mailinator.com", "name": "Webhooktest"}
          }
        }
        """;

    public static string TeachableEnrollment(string type = "Enrollment.created", long eventId = 5501) => $$"""
        {
          "type": "{{type}}",
          "id": {{eventId}},
          "livemode": true,
          "created": "2026-11-20T19:06:00+00:00",
          "hook_event_id": 3,
          "object": {
            "id": 4321,
            "user_id": 15747624,
            "course_id": 302950,
            "created_at": "2026-11-20T19:06:00Z",
            "expires_at": null,
            "is_active": true,
            "percent_complete": 0,
            "course": {"id": 302950, "name": "Overcoming Social Anxiety"},
            "user": {"id": 15747624, "email": "webhook@mailinator.com", "name": "Webhooktest"}
          }
        }
        """;

    // ---- Kajabi: {id, event, payload: [JSON:API resources]} (developers.kajabi.com api-reference/webhooks/*-sample).

    public static string KajabiPurchase(string hookId = "h_7f3a9c", bool optIn = true) => $$$"""
        {
          "id": "{{{hookId}}}",
          "event": "purchase",
          "payload": [
            {
              "id": "5501",
              "type": "purchases",
              "attributes": {
                "amount_in_cents": 19700, "payment_type": "single", "multipay_payments_made": null,
                "opt_in": {{{(optIn ? "true" : "false")}}}, "raw_extra_contact_information": {}, "currency": "USD",
                "effective_start_at": null, "cardholder_name": null, "billing_address_zip": null,
                "deactivated_at": null, "deactivation_reason": null, "coupon_code": null, "source": null,
                "referrer": "https://instagram.com/", "quantity": 1,
                "created_at": "2026-11-20T16:59:27.580Z", "updated_at": "2026-11-20T16:59:27.580Z"
              },
              "relationships": {
                "customer": {"data": {"id": "880", "type": "customers"}},
                "offer": {"data": {"id": "2150", "type": "offers"}},
                "products": {"data": []}
              }
            },
            {
              "id": "2150",
              "type": "offers",
              "attributes": {"title": "Creator Academy", "currency": "USD", "price_in_cents": 19700, "payment_type": "single",
                             "token": "n8NtoHUZ", "one_time": true, "single": true, "free": false}
            },
            {
              "id": "880",
              "type": "customers",
              "attributes": {"name": "John Doe", "email": "John.Doe@Example.com", "external_user_id": null,
                             "created_at": "2026-11-20T16:59:27.552Z", "updated_at": "2026-11-20T16:59:27.552Z"},
              "relationships": {"contact": {"data": {"id": "4401", "type": "contacts"} } }
            }
          ]
        }
        """;

    public static string KajabiFormSubmission(string hookId = "h_form_1") => $$$"""
        {
          "id": "{{{hookId}}}",
          "event": "form_submission",
          "payload": [
            {
              "id": "9001",
              "type": "form_submissions",
              "attributes": {"name": "Jane Roe", "email": "jane@example.com", "phone_number": "+1 212 555 0100",
                             "mobile_phone_number": null, "address_line_1": null},
              "relationships": {"site": {"data": {"id": "2", "type": "sites"}}, "form": {"data": {"id": "31", "type": "forms"} } }
            },
            {
              "id": "31",
              "type": "forms",
              "attributes": {"url": "https://creator.mykajabi.com/forms/31", "title": "Free Masterclass", "default": false}
            }
          ]
        }
        """;

    public static string KajabiTag(string eventName = "tag_added", string hookId = "h_tag_1") => $$$"""
        {
          "id": "{{{hookId}}}",
          "event": "{{{eventName}}}",
          "payload": [
            {
              "id": "4401",
              "type": "contacts",
              "attributes": {"name": "John Doe", "email": "john.doe@example.com", "subscribed": true, "external_user_id": null,
                             "created_at": "2026-11-20T16:51:04.010Z", "updated_at": "2026-11-20T16:51:04.010Z"}
            },
            {"id": "77", "type": "contact_tags", "attributes": {"name": "vip"}}
          ]
        }
        """;
}
