using System.Text;

namespace Junction.Tests.Support;

/// <summary>Stripe events shaped as the Stripe API reference shows them (Event object with data.object snapshots).</summary>
public static class StripeFixtures
{
    public static byte[] Event(string id, string type, string dataObject, long created = 1_795_000_000, bool livemode = false, string? previous = null) =>
        Encoding.UTF8.GetBytes($$"""
        {"id":"{{id}}","object":"event","api_version":"2024-06-20","created":{{created}},
         "data":{"object":{{dataObject}}{{(previous is null ? "" : $",\"previous_attributes\":{previous}")}}},
         "livemode":{{(livemode ? "true" : "false")}},"pending_webhooks":1,
         "request":{"id":null,"idempotency_key":null},"type":"{{type}}"}
        """);

    public static string CheckoutSession(string id = "cs_test_a1b2c3", string paymentStatus = "paid", string status = "complete",
        string paymentIntent = "pi_3PgRp2LkdIwHu7ix0pQ1rStU") => $$"""
        {"id":"{{id}}","object":"checkout.session","after_expiration":null,"allow_promotion_codes":null,
         "amount_subtotal":4900,"amount_total":4900,"billing_address_collection":null,
         "cancel_url":"https://creator.example/cancel","client_reference_id":"jt_8f3a2c",
         "currency":"usd","customer":"cus_QxY12abc","customer_creation":"if_required",
         "customer_details":{"address":{"city":null,"country":"US","line1":null,"line2":null,"postal_code":"10001","state":null},
           "email":"  Ada.Lovelace+course@Example.com ","name":"Ada Lovelace","phone":"+1 (212) 555-0100","tax_exempt":"none","tax_ids":[]},
         "customer_email":null,"expires_at":1795086400,"invoice":null,"livemode":false,
         "metadata":{"utm_source":"ig","utm_medium":"social","utm_campaign":"launch"},
         "mode":"payment","payment_intent":"{{paymentIntent}}","payment_link":null,
         "payment_method_types":["card"],"payment_status":"{{paymentStatus}}","status":"{{status}}",
         "subscription":null,"success_url":"https://creator.example/thanks","url":null}
        """;

    public static string LineItems(string sessionId = "cs_test_a1b2c3") => $$"""
        {"object":"list","data":[{"id":"li_1PgRp2LkdIwHu7ix","object":"item","amount_discount":0,"amount_subtotal":4900,
          "amount_tax":0,"amount_total":4900,"currency":"usd","description":"Course Pro",
          "price":{"id":"price_1PgRoVLkdIwHu7ixCoursePro","object":"price","active":true,"currency":"usd",
                   "lookup_key":"course-pro","product":"prod_QXcoursepro","type":"one_time","unit_amount":4900},
          "quantity":1}],
         "has_more":false,"url":"/v1/checkout/sessions/{{sessionId}}/line_items"}
        """;

    public static string Charge(long amountRefunded, bool refunded, string? refundId = null, long refundAmount = 0) => $$"""
        {"id":"ch_3PgRp2LkdIwHu7ix0abc","object":"charge","amount":4900,"amount_captured":4900,
         "amount_refunded":{{amountRefunded}},"billing_details":{"email":"ada.lovelace+course@example.com","name":"Ada Lovelace","phone":null},
         "captured":true,"created":1795000000,"currency":"usd","customer":"cus_QxY12abc","livemode":false,
         "paid":true,"payment_intent":"pi_3PgRp2LkdIwHu7ix0pQ1rStU","receipt_email":null,"refunded":{{(refunded ? "true" : "false")}},
         "refunds":{"object":"list","data":[{{(refundId is null ? "" : $"{{\"id\":\"{refundId}\",\"object\":\"refund\",\"amount\":{refundAmount},\"charge\":\"ch_3PgRp2LkdIwHu7ix0abc\",\"currency\":\"usd\",\"payment_intent\":\"pi_3PgRp2LkdIwHu7ix0pQ1rStU\",\"status\":\"succeeded\"}}")}}],
                    "has_more":false,"total_count":1,"url":"/v1/charges/ch_3PgRp2LkdIwHu7ix0abc/refunds"},
         "status":"succeeded"}
        """;

    public static string Dispute(string status) => $$"""
        {"id":"dp_1PgS0aLkdIwHu7ix","object":"dispute","amount":4900,"charge":"ch_3PgRp2LkdIwHu7ix0abc","created":1795100000,
         "currency":"usd","evidence_details":{"due_by":1795900000,"has_evidence":false,"past_due":false,"submission_count":0},
         "is_charge_refundable":false,"livemode":false,"metadata":{},"payment_intent":"pi_3PgRp2LkdIwHu7ix0pQ1rStU",
         "reason":"fraudulent","status":"{{status}}"}
        """;

    public static string Subscription() => """
        {"id":"sub_1PgS3bLkdIwHu7ix","object":"subscription","cancel_at_period_end":false,"canceled_at":1795200000,
         "cancellation_details":{"comment":null,"feedback":"too_expensive","reason":"cancellation_requested"},
         "currency":"usd","customer":"cus_QxY12abc","ended_at":1795200000,
         "items":{"object":"list","data":[{"id":"si_Q1","object":"subscription_item",
           "price":{"id":"price_1PgMembership","object":"price","lookup_key":"membership-monthly","product":"prod_QXmember","unit_amount":1900,"currency":"usd"},
           "quantity":1}]},
         "livemode":false,"status":"canceled"}
        """;
}
