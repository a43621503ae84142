using System.Text;

namespace Junction.Tests.Providers.PayPal;

/// <summary>
/// PayPal payloads shaped as PayPal's documentation and sandbox deliveries show them (webhook event
/// names page, Payments v2 / Orders v2 / Disputes / Subscriptions references, IPN variables), with
/// ids, amounts and times kept from those samples where the samples give them.
/// </summary>
internal static class PayPalFixtures
{
    public const string WebhookId = "8PT597110X687430LKGECATA";

    /// <summary>PAYMENT.CAPTURE.COMPLETED as delivered by the sandbox (capture → order in supplementary_data).</summary>
    public static string CaptureCompleted(
        string eventId = "WH-2CL46544TB770421K-5VB92446WP7345818",
        string captureId = "29Y24445UY2083144",
        string orderId = "89T257400V0473133",
        string type = "PAYMENT.CAPTURE.COMPLETED",
        string status = "COMPLETED",
        string customId = "purchase_token=jt_8f3a2c&utm_source=ig&utm_campaign=launch",
        string host = "api.sandbox.paypal.com") => $$"""
        {
          "id": "{{eventId}}",
          "create_time": "2022-02-02T00:23:12.336Z",
          "resource_type": "capture",
          "event_type": "{{type}}",
          "summary": "Payment completed for $ 100.0 USD",
          "resource": {
            "disbursement_mode": "INSTANT",
            "amount": { "value": "100.00", "currency_code": "USD" },
            "seller_protection": { "status": "NOT_ELIGIBLE" },
            "supplementary_data": { "related_ids": { "order_id": "{{orderId}}" } },
            "update_time": "2022-02-02T00:22:38Z",
            "create_time": "2022-02-02T00:22:38Z",
            "final_capture": true,
            "seller_receivable_breakdown": {
              "paypal_fee": { "value": "3.98", "currency_code": "USD" },
              "gross_amount": { "value": "100.00", "currency_code": "USD" },
              "net_amount": { "value": "96.02", "currency_code": "USD" }
            },
            "custom_id": "{{customId}}",
            "invoice_id": "INV-2022-0042",
            "links": [
              { "method": "GET", "rel": "self", "href": "https://{{host}}/v2/payments/captures/{{captureId}}" },
              { "method": "POST", "rel": "refund", "href": "https://{{host}}/v2/payments/captures/{{captureId}}/refund" },
              { "method": "GET", "rel": "up", "href": "https://{{host}}/v2/checkout/orders/{{orderId}}" }
            ],
            "id": "{{captureId}}",
            "status": "{{status}}"
          },
          "links": [
            { "href": "https://{{host}}/v1/notifications/webhooks-events/{{eventId}}", "rel": "self", "method": "GET", "encType": "application/json" },
            { "href": "https://{{host}}/v1/notifications/webhooks-events/{{eventId}}/resend", "rel": "resend", "method": "POST", "encType": "application/json" }
          ],
          "event_version": "1.0",
          "resource_version": "2.0"
        }
        """;

    /// <summary>PAYMENT.CAPTURE.REFUNDED, the webhook event names page sample (live hosts, -07:00 resource times).</summary>
    public static string CaptureRefunded(
        string eventId = "WH-1GE84257G0350133W-6RW800890C634293G",
        string refundId = "1Y107995YT783435V",
        string captureId = "0JF852973C016714D",
        string value = "0.99",
        string total = "1.98",
        string type = "PAYMENT.CAPTURE.REFUNDED",
        string host = "api.paypal.com") => $$"""
        {
          "id": "{{eventId}}",
          "create_time": "2018-08-15T19:14:04.543Z",
          "resource_type": "refund",
          "event_type": "{{type}}",
          "summary": "A $ {{value}} USD capture payment was refunded",
          "resource": {
            "seller_payable_breakdown": {
              "gross_amount": { "currency_code": "USD", "value": "{{value}}" },
              "paypal_fee": { "currency_code": "USD", "value": "0.02" },
              "net_amount": { "currency_code": "USD", "value": "0.97" },
              "total_refunded_amount": { "currency_code": "USD", "value": "{{total}}" }
            },
            "amount": { "currency_code": "USD", "value": "{{value}}" },
            "update_time": "2018-08-15T12:13:29-07:00",
            "create_time": "2018-08-15T12:13:29-07:00",
            "links": [
              { "href": "https://{{host}}/v2/payments/refunds/{{refundId}}", "rel": "self", "method": "GET" },
              { "href": "https://{{host}}/v2/payments/captures/{{captureId}}", "rel": "up", "method": "GET" }
            ],
            "id": "{{refundId}}",
            "status": "COMPLETED"
          },
          "links": [
            { "href": "https://{{host}}/v1/notifications/webhooks-events/{{eventId}}", "rel": "self", "method": "GET", "encType": "application/json" },
            { "href": "https://{{host}}/v1/notifications/webhooks-events/{{eventId}}/resend", "rel": "resend", "method": "POST", "encType": "application/json" }
          ],
          "event_version": "1.0",
          "resource_version": "2.0"
        }
        """;

    /// <summary>PAYMENT.CAPTURE.REVERSED: a refund-shaped resource (webhook event names page sample).</summary>
    public static string CaptureReversed() => CaptureRefunded("WH-6F207351SC284371F-0KX52201050121307", "09E71677NS257044M", "4L335234718889942",
        "2.51", "2.51", "PAYMENT.CAPTURE.REVERSED");

    /// <summary>GET /v2/payments/captures/{id} (Payments v2 "Show captured payment details").</summary>
    public static string Capture(string captureId = "0JF852973C016714D", string orderId = "5O190127TN364715T", string value = "10.00", string status = "PARTIALLY_REFUNDED") => $$"""
        {
          "id": "{{captureId}}",
          "amount": { "currency_code": "USD", "value": "{{value}}" },
          "final_capture": true,
          "seller_protection": { "status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"] },
          "seller_receivable_breakdown": {
            "gross_amount": { "currency_code": "USD", "value": "{{value}}" },
            "paypal_fee": { "currency_code": "USD", "value": "0.59" },
            "net_amount": { "currency_code": "USD", "value": "9.41" }
          },
          "invoice_id": "INV-2018-0815",
          "custom_id": "jt_refund_token",
          "status": "{{status}}",
          "supplementary_data": { "related_ids": { "order_id": "{{orderId}}" } },
          "create_time": "2018-08-15T11:02:01-07:00",
          "update_time": "2018-08-15T12:13:29-07:00",
          "links": [
            { "href": "https://api.paypal.com/v2/payments/captures/{{captureId}}", "rel": "self", "method": "GET" },
            { "href": "https://api.paypal.com/v2/payments/captures/{{captureId}}/refund", "rel": "refund", "method": "POST" },
            { "href": "https://api.paypal.com/v2/checkout/orders/{{orderId}}", "rel": "up", "method": "GET" }
          ]
        }
        """;

    /// <summary>GET /v2/checkout/orders/{id} (Orders v2 "Show order details"): payer and line items.</summary>
    public static string Order(string orderId = "89T257400V0473133") => $$"""
        {
          "id": "{{orderId}}",
          "status": "COMPLETED",
          "intent": "CAPTURE",
          "payment_source": { "paypal": { "email_address": "Ada.Lovelace+Course@Example.com", "account_id": "QYR5Z8XDVJNXQ" } },
          "payer": {
            "name": { "given_name": "Ada", "surname": "Lovelace" },
            "email_address": " Ada.Lovelace+Course@Example.com",
            "payer_id": "QYR5Z8XDVJNXQ",
            "address": { "country_code": "US" }
          },
          "purchase_units": [
            {
              "reference_id": "default",
              "amount": {
                "currency_code": "USD",
                "value": "100.00",
                "breakdown": { "item_total": { "currency_code": "USD", "value": "100.00" } }
              },
              "items": [
                { "name": "Course Pro", "unit_amount": { "currency_code": "USD", "value": "40.00" }, "quantity": "2", "sku": "course-pro" },
                { "name": "Workbook", "unit_amount": { "currency_code": "USD", "value": "20.00" }, "quantity": "1", "sku": "workbook" }
              ],
              "payments": { "captures": [ { "id": "29Y24445UY2083144", "status": "COMPLETED", "amount": { "currency_code": "USD", "value": "100.00" } } ] }
            }
          ],
          "create_time": "2022-02-02T00:21:50Z",
          "update_time": "2022-02-02T00:22:38Z",
          "links": [ { "href": "https://api.sandbox.paypal.com/v2/checkout/orders/{{orderId}}", "rel": "self", "method": "GET" } ]
        }
        """;

    /// <summary>CUSTOMER.DISPUTE.CREATED, sandbox sample (Disputes webhooks page).</summary>
    public const string DisputeCreated = """
        {
          "id": "WH-4M0448861G563140B-9EX36365822141321",
          "create_time": "2018-06-21T13:36:33.000Z",
          "resource_type": "dispute",
          "event_type": "CUSTOMER.DISPUTE.CREATED",
          "summary": "A new dispute opened with Case # PP-000-042-663-135",
          "resource": {
            "disputed_transactions": [
              {
                "seller_transaction_id": "00D10444LD479031K",
                "seller": { "merchant_id": "RD465XN5VS364", "name": "Test Store" },
                "items": [],
                "seller_protection_eligible": true
              }
            ],
            "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
            "dispute_channel": "INTERNAL",
            "update_time": "2018-06-21T13:35:44.000Z",
            "create_time": "2018-06-21T13:35:44.000Z",
            "messages": [ { "posted_by": "BUYER", "time_posted": "2018-06-21T13:35:52.000Z", "content": "qwqwqwq" } ],
            "links": [
              { "href": "https://api.sandbox.paypal.com/v1/customer/disputes/PP-000-042-663-135", "rel": "self", "method": "GET" },
              { "href": "https://api.sandbox.paypal.com/v1/customer/disputes/PP-000-042-663-135/send-message", "rel": "send_message", "method": "POST" }
            ],
            "dispute_amount": { "currency_code": "USD", "value": "3.00" },
            "dispute_id": "PP-000-042-663-135",
            "dispute_life_cycle_stage": "INQUIRY",
            "status": "OPEN"
          },
          "links": [
            { "href": "https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-4M0448861G563140B-9EX36365822141321", "rel": "self", "method": "GET", "encType": "application/json" }
          ],
          "event_version": "1.0"
        }
        """;

    /// <summary>CUSTOMER.DISPUTE.RESOLVED for the same case (dispute_outcome from the Disputes v1 reference).</summary>
    public static string DisputeResolved(string outcome) => $$"""
        {
          "id": "WH-6SA34813406280445-6M160383LS6155516",
          "create_time": "2018-06-21T13:57:08.000Z",
          "resource_type": "dispute",
          "event_type": "CUSTOMER.DISPUTE.RESOLVED",
          "summary": "A dispute was resolved with case # PP-000-042-663-135",
          "resource": {
            "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
            "dispute_channel": "INTERNAL",
            "create_time": "2018-06-21T13:35:44.000Z",
            "dispute_id": "PP-000-042-663-135",
            "dispute_life_cycle_stage": "CHARGEBACK",
            "disputed_transactions": [
              {
                "seller_transaction_id": "00D10444LD479031K",
                "seller": { "merchant_id": "RD465XN5VS364", "name": "Test Store" },
                "items": [],
                "seller_protection_eligible": true
              }
            ],
            "update_time": "2018-06-21T13:55:58.000Z",
            "dispute_outcome": { "outcome_code": "{{outcome}}", "amount_refunded": { "currency_code": "USD", "value": "3.00" } },
            "links": [ { "href": "https://api.sandbox.paypal.com/v1/customer/disputes/PP-000-042-663-135", "rel": "self", "method": "GET" } ],
            "dispute_amount": { "currency_code": "USD", "value": "3.00" },
            "status": "RESOLVED"
          },
          "event_version": "1.0"
        }
        """;

    /// <summary>BILLING.SUBSCRIPTION.CANCELLED as the sandbox sends it (Subscriptions v1 resource).</summary>
    public const string SubscriptionCancelled = """
        {
          "id": "WH-34X36469WX676933R-2P1266859B770040P",
          "event_version": "1.0",
          "create_time": "2022-06-24T19:59:04.920Z",
          "resource_type": "subscription",
          "resource_version": "2.0",
          "event_type": "BILLING.SUBSCRIPTION.CANCELLED",
          "summary": "Subscription cancelled",
          "resource": {
            "quantity": "1",
            "subscriber": {
              "email_address": "sb-5z4c4317507113@personal.example.com",
              "payer_id": "9B84P2Q6BE4BN",
              "name": { "given_name": "John", "surname": "Doe" }
            },
            "create_time": "2022-06-24T19:41:57Z",
            "plan_overridden": false,
            "start_time": "2022-06-24T19:41:38Z",
            "update_time": "2022-06-24T19:58:36Z",
            "status_update_time": "2022-06-24T19:58:36Z",
            "status_change_note": "Item out of stock",
            "id": "I-BW452GLLEP1G",
            "plan_id": "P-5ML4271244454362WXNWU5NQ",
            "status": "CANCELLED",
            "links": [ { "href": "https://api.sandbox.paypal.com/v1/billing/subscriptions/I-BW452GLLEP1G", "rel": "self", "method": "GET" } ]
          },
          "links": [ { "href": "https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-34X36469WX676933R-2P1266859B770040P", "rel": "self", "method": "GET" } ]
        }
        """;

    /// <summary>PAYMENT.SALE.COMPLETED for a subscription cycle (Payments v1 sale: amount.total/currency).</summary>
    public const string SaleCompleted = """
        {
          "id": "WH-4BF08585W75823541-1TG34585CL883470E",
          "event_version": "1.0",
          "create_time": "2023-09-07T07:13:29.971Z",
          "resource_type": "sale",
          "event_type": "PAYMENT.SALE.COMPLETED",
          "summary": "Payment completed for $ 14.9 USD",
          "resource": {
            "billing_agreement_id": "I-0HNJGFKLTLMP",
            "amount": { "total": "14.90", "currency": "USD", "details": { "subtotal": "14.90" } },
            "payment_mode": "INSTANT_TRANSFER",
            "update_time": "2023-09-07T07:13:25Z",
            "create_time": "2023-09-07T07:13:25Z",
            "protection_eligibility_type": "ITEM_NOT_RECEIVED_ELIGIBLE,UNAUTHORIZED_PAYMENT_ELIGIBLE",
            "transaction_fee": { "currency": "USD", "value": "0.88" },
            "protection_eligibility": "ELIGIBLE",
            "links": [
              { "method": "GET", "rel": "self", "href": "https://api.sandbox.paypal.com/v1/payments/sale/5CS38179PL895402Y" },
              { "method": "POST", "rel": "refund", "href": "https://api.sandbox.paypal.com/v1/payments/sale/5CS38179PL895402Y/refund" }
            ],
            "id": "5CS38179PL895402Y",
            "state": "completed",
            "invoice_number": ""
          },
          "links": [ { "href": "https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-4BF08585W75823541-1TG34585CL883470E", "rel": "self", "method": "GET" } ]
        }
        """;

    /// <summary>CHECKOUT.ORDER.APPROVED: the resource is the Orders v2 order (sandbox delivery).</summary>
    public const string OrderApproved = """
        {
          "id": "WH-62W810145R7409724-8CH11354TY024302T",
          "event_version": "1.0",
          "create_time": "2022-10-21T06:42:32.606Z",
          "resource_type": "checkout-order",
          "resource_version": "2.0",
          "event_type": "CHECKOUT.ORDER.APPROVED",
          "summary": "An order has been approved by buyer",
          "resource": {
            "create_time": "2022-10-21T06:27:07Z",
            "purchase_units": [
              {
                "reference_id": "default",
                "amount": { "currency_code": "USD", "value": "4999.81" },
                "payee": { "email_address": "sb-gsncy21794962@business.example.com", "merchant_id": "3SQBR4YEWZ4BA" },
                "custom_id": "jt_approved_1"
              }
            ],
            "links": [ { "href": "https://api.sandbox.paypal.com/v2/checkout/orders/9JL52742K01513702", "rel": "self", "method": "GET" } ],
            "id": "9JL52742K01513702",
            "payment_source": { "paypal": {} },
            "intent": "CAPTURE",
            "payer": {
              "name": { "given_name": "John", "surname": "Doe" },
              "email_address": "sb-4dj7k21794940@personal.example.com",
              "payer_id": "LBXGJE7WM6F5A",
              "address": { "country_code": "US" }
            },
            "status": "APPROVED"
          }
        }
        """;

    /// <summary>PAYMENT.SALE.REFUNDED: a Payments v1 refund of a subscription sale (sample in PayPal's webhook docs, sale_id and links[rel=sale]).</summary>
    public static string SaleRefunded(string total = "14.90", string type = "PAYMENT.SALE.REFUNDED") => $$"""
        {
          "id": "WH-2N242548W9943490U-1JU23391CS4765624",
          "event_version": "1.0",
          "create_time": "2023-09-12T15:42:24Z",
          "resource_type": "refund",
          "event_type": "{{type}}",
          "summary": "A 14.90 USD sale payment was refunded",
          "resource": {
            "sale_id": "5CS38179PL895402Y",
            "parent_payment": "PAYID-MT4ZQ2Y6XB123456K1234567",
            "update_time": "2023-09-12T08:41:51-07:00",
            "amount": { "total": "{{total}}", "currency": "USD" },
            "create_time": "2023-09-12T08:41:51-07:00",
            "links": [
              { "href": "https://api.sandbox.paypal.com/v1/payments/refund/6YX43824R4443062K", "rel": "self", "method": "GET" },
              { "href": "https://api.sandbox.paypal.com/v1/payments/payment/PAYID-MT4ZQ2Y6XB123456K1234567", "rel": "parent_payment", "method": "GET" },
              { "href": "https://api.sandbox.paypal.com/v1/payments/sale/5CS38179PL895402Y", "rel": "sale", "method": "GET" }
            ],
            "id": "6YX43824R4443062K",
            "state": "completed"
          },
          "links": [ { "href": "https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-2N242548W9943490U-1JU23391CS4765624", "rel": "self", "method": "GET" } ]
        }
        """;

    /// <summary>BILLING.SUBSCRIPTION.PAYMENT.FAILED: the subscription resource with billing_info.last_failed_payment (Subscriptions v1).</summary>
    public const string SubscriptionPaymentFailed = """
        {
          "id": "WH-7R6823418M0713208-2FE90713WT381823N",
          "event_version": "1.0",
          "create_time": "2023-10-07T07:14:01.512Z",
          "resource_type": "subscription",
          "resource_version": "2.0",
          "event_type": "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
          "summary": "Subscription payment failed",
          "resource": {
            "id": "I-0HNJGFKLTLMP",
            "plan_id": "P-5ML4271244454362WXNWU5NQ",
            "status": "ACTIVE",
            "quantity": "1",
            "custom_id": "jt_sub_1",
            "subscriber": {
              "email_address": "sb-5z4c4317507113@personal.example.com",
              "payer_id": "9B84P2Q6BE4BN",
              "name": { "given_name": "John", "surname": "Doe" }
            },
            "billing_info": {
              "outstanding_balance": { "currency_code": "USD", "value": "14.90" },
              "failed_payments_count": 1,
              "last_failed_payment": { "amount": { "currency_code": "USD", "value": "14.90" }, "time": "2023-10-07T07:13:25Z" }
            },
            "links": [ { "href": "https://api.sandbox.paypal.com/v1/billing/subscriptions/I-0HNJGFKLTLMP", "rel": "self", "method": "GET" } ]
          }
        }
        """;

    /// <summary>CHECKOUT.ORDER.COMPLETED: the Orders v2 order with its capture (purchase_units[].payments.captures[]).</summary>
    public static string OrderCompleted(string captureStatus = "COMPLETED") => $$"""
        {
          "id": "WH-55TG7562XN2588878-8YH955435R661687G",
          "event_version": "1.0",
          "create_time": "2022-02-02T00:22:45.101Z",
          "resource_type": "checkout-order",
          "resource_version": "2.0",
          "event_type": "CHECKOUT.ORDER.COMPLETED",
          "summary": "Checkout Order Completed",
          "resource": {
            "id": "89T257400V0473133",
            "status": "COMPLETED",
            "intent": "CAPTURE",
            "payer": {
              "name": { "given_name": "Ada", "surname": "Lovelace" },
              "email_address": "ada.lovelace+course@example.com",
              "payer_id": "QYR5Z8XDVJNXQ"
            },
            "purchase_units": [
              {
                "reference_id": "default",
                "custom_id": "purchase_token=jt_8f3a2c&utm_source=ig",
                "invoice_id": "INV-2022-0042",
                "amount": { "currency_code": "USD", "value": "100.00" },
                "items": [ { "name": "Course Pro", "unit_amount": { "currency_code": "USD", "value": "100.00" }, "quantity": "1", "sku": "course-pro" } ],
                "payments": {
                  "captures": [
                    {
                      "id": "29Y24445UY2083144",
                      "status": "{{captureStatus}}",
                      "amount": { "currency_code": "USD", "value": "100.00" },
                      "final_capture": true,
                      "create_time": "2022-02-02T00:22:38Z",
                      "update_time": "2022-02-02T00:22:38Z"
                    }
                  ]
                }
              }
            ],
            "create_time": "2022-02-02T00:21:50Z",
            "update_time": "2022-02-02T00:22:38Z",
            "links": [ { "href": "https://api.sandbox.paypal.com/v2/checkout/orders/89T257400V0473133", "rel": "self", "method": "GET" } ]
          }
        }
        """;

    /// <summary>An IPN body as PayPal posts it (web_accept; field order and encoding as sent).</summary>
    public static string IpnWebAccept(string status = "Completed", string receiver = "seller%40example.com", string extra = "") =>
        "mc_gross=49.00&protection_eligibility=Eligible&address_status=confirmed&payer_id=LPLWNMTBWMFAY&tax=0.00"
        + "&payment_date=10%3A45%3A12+Nov+20%2C+2026+PST&payment_status=" + status + "&charset=windows-1252"
        + "&first_name=Jos%E9&mc_fee=1.72&notify_version=3.9&custom=purchase_token%3Djt_ipn_1%26utm_source%3Dnewsletter"
        + "&payer_status=verified&business=seller%40example.com&quantity=1&verify_sign=AtkOfCXbDm2hu0ZELryHFjY-Vb7PAUvS6nMXgysbElEn9v-1XcmSoGtf"
        + "&payer_email=Jose.Buyer%40Example.com&txn_id=61E67681CH3238416&payment_type=instant&last_name=Garc%EDa"
        + "&receiver_email=" + receiver + "&payment_fee=1.72&receiver_id=S8XGHLYDW9T3S&txn_type=web_accept"
        + "&item_name=Course+Pro&mc_currency=USD&item_number=course-pro&residence_country=US&test_ipn=1"
        + "&handling_amount=0.00&transaction_subject=&payment_gross=49.00&shipping=0.00&ipn_track_id=545a0f4a5f2d8" + extra;

    public static byte[] Bytes(string form) => Encoding.ASCII.GetBytes(form);
}
