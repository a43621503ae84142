using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.LemonSqueezy;

namespace Junction.Tests.Providers.Payments;

/// <summary>Lemon Squeezy webhooks shaped like docs.lemonsqueezy.com/help/webhooks/webhook-requests and /api/orders.</summary>
public sealed class LemonSqueezyTests
{
    private const string Secret = "ls_signing_secret_1";
    private const string NewSecret = "ls_signing_secret_2";
    private static readonly LemonSqueezyProvider Provider = new();

    public static string Order(string eventName = "order_created", string status = "paid", int refundedAmount = 0, string? refundedAt = null,
        string updatedAt = "2026-11-20T15:00:06.000000Z", bool testMode = true) => $$$"""
        {
          "meta": {
            "test_mode": {{{(testMode ? "true" : "false")}}},
            "event_name": "{{{eventName}}}",
            "webhook_id": "b6a0a1e4-4a6c-4c0f-9f0e-7a3a5d2b1c9e",
            "custom_data": {"purchase_token": "jt_ls_42", "utm_source": "youtube", "utm_campaign": "spring"}
          },
          "data": {
            "type": "orders",
            "id": "1",
            "attributes": {
              "store_id": 1,
              "customer_id": 1,
              "identifier": "636f855c-1fb9-4c07-b75c-3a10afef010a",
              "order_number": 1,
              "user_name": "Darlene Daugherty",
              "user_email": "Gernser@Yahoo.com",
              "currency": "USD",
              "currency_rate": "1.0000",
              "subtotal": 999,
              "setup_fee": 0,
              "discount_total": 0,
              "tax": 200,
              "total": 1199,
              "refunded_amount": {{{refundedAmount}}},
              "subtotal_usd": 999,
              "setup_fee_usd": 0,
              "discount_total_usd": 0,
              "tax_usd": 200,
              "total_usd": 1199,
              "refunded_amount_usd": {{{refundedAmount}}},
              "tax_name": "VAT",
              "tax_rate": "20.00",
              "tax_inclusive": false,
              "status": "{{{status}}}",
              "status_formatted": "Paid",
              "refunded": {{{(status == "refunded" ? "true" : "false")}}},
              "refunded_at": {{{(refundedAt is null ? "null" : $"\"{refundedAt}\"")}}},
              "subtotal_formatted": "$9.99",
              "setup_fee_formatted": "$0.00",
              "discount_total_formatted": "$0.00",
              "tax_formatted": "$2.00",
              "total_formatted": "$11.99",
              "refunded_amount_formatted": "$0.00",
              "first_order_item": {
                "id": 1,
                "order_id": 1,
                "product_id": 1,
                "variant_id": 1,
                "product_name": "Test Limited License for 2 years",
                "variant_name": "Default",
                "price": 1199,
                "quantity": 1,
                "created_at": "2026-11-20T15:00:05.000000Z",
                "updated_at": "2026-11-20T15:00:05.000000Z",
                "test_mode": false
              },
              "urls": {"receipt": "https://app.lemonsqueezy.com/my-orders/636f855c-1fb9-4c07-b75c-3a10afef010a?signature=8847fff02e1bfb0c7c43ff1cdf1b1657a8eed2029413692663b86859208c9f42"},
              "created_at": "2026-11-20T15:00:05.000000Z",
              "updated_at": "{{{updatedAt}}}",
              "test_mode": false
            },
            "relationships": {
              "store": {"links": {"related": "https://api.lemonsqueezy.com/v1/orders/1/store", "self": "https://api.lemonsqueezy.com/v1/orders/1/relationships/store"}},
              "customer": {"links": {"related": "https://api.lemonsqueezy.com/v1/orders/1/customer", "self": "https://api.lemonsqueezy.com/v1/orders/1/relationships/customer"}}
            },
            "links": {"self": "https://api.lemonsqueezy.com/v1/orders/1"}
          }
        }
        """;

    public static string Subscription(string eventName = "subscription_cancelled") => $$$"""
        {
          "meta": {"test_mode": false, "event_name": "{{{eventName}}}", "custom_data": {"purchase_token": "jt_ls_42"}},
          "data": {
            "type": "subscriptions",
            "id": "1",
            "attributes": {
              "store_id": 1, "customer_id": 1, "order_id": 1, "order_item_id": 1, "product_id": 1, "variant_id": 1,
              "product_name": "Lemonade", "variant_name": "Citrus Blast", "user_name": "Darlene Daugherty", "user_email": "gernser@yahoo.com",
              "status": "cancelled", "status_formatted": "Cancelled", "card_brand": "visa", "card_last_four": "4242", "pause": null,
              "cancelled": true, "trial_ends_at": null, "billing_anchor": 12,
              "first_subscription_item": {"id": 1, "subscription_id": 1, "price_id": 1, "quantity": 5, "created_at": "2026-11-20T15:00:05.000000Z", "updated_at": "2026-11-20T15:00:05.000000Z"},
              "urls": {"update_payment_method": "https://my-store.lemonsqueezy.com/subscription/1/payment-details?expires=1666869343&signature=9985e3bf9007840aeb3951412be475abc17439c449c1af3e56e08e45e1345413"},
              "renews_at": "2026-12-12T00:00:00.000000Z", "ends_at": "2026-12-12T00:00:00.000000Z",
              "created_at": "2026-10-12T15:00:05.000000Z", "updated_at": "2026-11-25T09:30:00.000000Z", "test_mode": false
            }
          }
        }
        """;

    public static string Invoice(string eventName, string billingReason, string status = "paid") => $$$"""
        {
          "meta": {"test_mode": false, "event_name": "{{{eventName}}}", "custom_data": {"purchase_token": "jt_ls_42"}},
          "data": {
            "type": "subscription-invoices",
            "id": "7",
            "attributes": {
              "store_id": 1, "subscription_id": 1, "customer_id": 1, "user_name": "John Doe", "user_email": "johndoe@example.com",
              "billing_reason": "{{{billingReason}}}", "card_brand": "visa", "card_last_four": "4242", "currency": "USD", "currency_rate": "1.00000000",
              "status": "{{{status}}}", "status_formatted": "Paid", "refunded": false, "refunded_at": null,
              "subtotal": 999, "discount_total": 0, "tax": 0, "tax_inclusive": false, "total": 999,
              "subtotal_usd": 999, "discount_total_usd": 0, "tax_usd": 0, "total_usd": 999,
              "subtotal_formatted": "$9.99", "discount_total_formatted": "$0.00", "tax_formatted": "$0.00", "total_formatted": "$9.99",
              "urls": {"invoice_url": "https://app.lemonsqueezy.com/my-orders/104e18a2-d755-4d4b-80c4-a6c1dcbe1c10/subscription-invoice/1"},
              "created_at": "2026-12-12T00:00:05.000000Z", "updated_at": "2026-12-12T00:00:06.000000Z", "test_mode": false
            }
          }
        }
        """;

    private static MapResult Map(string body) => Provider.Mapper.Map(PaymentsKit.Raw("lemonsqueezy", body));

    private static SignatureCheck Verify(string body, string? signature, params string[] secrets) =>
        Provider.Verify(signature is null ? PaymentsKit.Request(body) : PaymentsKit.Request(body, null, ("X-Signature", signature)),
            secrets, TimeSpan.FromSeconds(300), PaymentsKit.Received);

    [Fact]
    public void Verify_AcceptsHexSignatureOfTheRawBody()
    {
        var body = Order();

        Assert.True(Verify(body, PaymentsKit.LemonSqueezy(Secret, body), Secret).IsValid);
    }

    [Fact]
    public void Verify_AcceptsEitherSecretWhileRotating()
    {
        var body = Order();

        Assert.True(Verify(body, PaymentsKit.LemonSqueezy(NewSecret, body), Secret, NewSecret).IsValid);
        Assert.Equal(SignatureFailure.BadSignature, Verify(body, PaymentsKit.LemonSqueezy(NewSecret, body), Secret).Failure);
    }

    [Fact]
    public void Verify_RefusesTamperedBody_MissingHeader_AndWrongSecret()
    {
        var body = Order();
        var signature = PaymentsKit.LemonSqueezy(Secret, body);

        Assert.Equal(SignatureFailure.BadSignature, Verify(body.Replace("1199", "1", StringComparison.Ordinal), signature, Secret).Failure);
        Assert.Equal(SignatureFailure.MissingSignature, Verify(body, null, Secret).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(body, PaymentsKit.LemonSqueezy("another_secret", body), Secret).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(body, "not-hex", Secret).Failure);
    }

    [Fact]
    public void DedupKey_IsEventTypeIdAndUpdatedAt()
    {
        var created = Provider.DedupKey(PaymentsKit.Request(Order(), null, ("X-Event-Name", "order_created")));
        var refunded = Provider.DedupKey(PaymentsKit.Request(Order("order_refunded", "refunded", 1199, "2026-11-21T09:00:00.000000Z", "2026-11-21T09:00:00.000000Z"),
            null, ("X-Event-Name", "order_refunded")));

        Assert.Equal("order_created:orders:1:2026-11-20T15:00:06.000000Z", created);
        Assert.Equal("order_refunded:orders:1:2026-11-21T09:00:00.000000Z", refunded);
    }

    [Fact]
    public void OrderCreatedPaid_IsOrderPaid_FieldByField()
    {
        var e = PaymentsKit.Single(Map(Order()));

        Assert.Equal(EventTypes.OrderPaid, e.Type);
        Assert.Equal("order_created", e.ProviderType);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 15, 0, 5, TimeSpan.Zero), e.OccurredAt);
        Assert.Null(e.OriginalTimezone);
        Assert.True(e.TestMode);
        Assert.Equal("gernser@yahoo.com", e.Subject.Email);
        Assert.Equal("1", e.Subject.CustomerId);
        Assert.Equal("jt_ls_42", e.Subject.PurchaseToken);
        Assert.Equal("Darlene Daugherty", e.Subject.Name);
        var order = e.Order!;
        Assert.Equal("1", order.OrderId);
        Assert.Equal(1199, order.Amount);
        Assert.Equal("USD", order.Currency);
        Assert.Contains("636f855c-1fb9-4c07-b75c-3a10afef010a", order.RelatedIds);
        var item = Assert.Single(order.Items);
        Assert.Equal("1", item.ProductId);
        Assert.Equal("1", item.PriceId);
        Assert.Equal("Test Limited License for 2 years", item.Name);
        Assert.Equal(1199, item.Amount);
        Assert.Equal("youtube", e.Attribution!.UtmSource);
        Assert.Equal("spring", e.Attribution.UtmCampaign);
    }

    [Theory]
    [InlineData("pending", EventTypes.OrderPending)]
    [InlineData("failed", EventTypes.PaymentFailed)]
    public void OrderCreatedNotPaid_IsPendingOrFailed(string status, string expected)
    {
        Assert.Equal(expected, PaymentsKit.Single(Map(Order(status: status))).Type);
    }

    [Fact]
    public void OrderCreatedWithAnUnknownStatus_IsQuarantined()
    {
        var q = Assert.IsType<MapResult.Quarantined>(Map(Order(status: "weird")));

        Assert.StartsWith("data.attributes.status:", q.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void FullRefund_IsOrderRefunded_Fully_NamingTheOrder()
    {
        var e = PaymentsKit.Single(Map(Order("order_refunded", "refunded", 1199, "2026-11-21T09:00:00.000000Z", "2026-11-21T09:00:00.000000Z")));

        Assert.Equal(EventTypes.OrderRefunded, e.Type);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal("1", e.Order!.OrderId);
        Assert.Null(e.Order.RefundAmount); // refunded_amount is cumulative: what this refund was is not in the payload
        Assert.Equal(1199, e.Order.RefundedTotal);
        Assert.True(e.Order.FullyRefunded);
        Assert.Equal("gernser@yahoo.com", e.Subject.Email);
    }

    [Fact]
    public void PartialRefunds_AreSeparateFacts_WithTheCumulativeRefundedTotal()
    {
        var first = PaymentsKit.Single(Map(Order("order_refunded", "partial_refund", 500, "2026-11-21T09:00:00.000000Z", "2026-11-21T09:00:00.000000Z")));
        var retried = PaymentsKit.Single(Map(Order("order_refunded", "partial_refund", 500, "2026-11-21T09:00:00.000000Z", "2026-11-21T09:00:00.000000Z")));
        var rest = PaymentsKit.Single(Map(Order("order_refunded", "refunded", 1199, "2026-11-22T09:00:00.000000Z", "2026-11-22T09:00:00.000000Z")));

        Assert.Equal(first.Id, retried.Id);
        Assert.False(first.Order!.FullyRefunded);
        Assert.Equal(500, first.Order.RefundedTotal);
        Assert.NotEqual(first.Id, rest.Id);
        Assert.Equal(1199, rest.Order!.RefundedTotal);
        Assert.True(rest.Order.FullyRefunded);
        // The second refund was 699, not the cumulative 1199: never overstate it as this refund's amount.
        Assert.Null(first.Order.RefundAmount);
        Assert.Null(rest.Order.RefundAmount);
    }

    [Fact]
    public void SubscriptionCancelled_IsSubscriptionCanceled_NamingTheFirstOrder()
    {
        var e = PaymentsKit.Single(Map(Subscription()));

        Assert.Equal(EventTypes.SubscriptionCanceled, e.Type);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 9, 30, 0, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal("1", e.Subscription!.SubscriptionId);
        Assert.Equal("cancelled", e.Subscription.Status);
        Assert.Equal(new DateTimeOffset(2026, 12, 12, 0, 0, 0, TimeSpan.Zero), e.Subscription.EndsAt);
        Assert.Equal("1", e.Order!.OrderId);
        Assert.Equal("1", Assert.Single(e.Order.Items).ProductId);
        Assert.Equal("gernser@yahoo.com", e.Subject.Email);
        Assert.Equal("jt_ls_42", e.Subject.PurchaseToken);
    }

    [Fact]
    public void RenewalPayment_IsSubscriptionRenewed_AndTheInitialPaymentIsIgnored()
    {
        var renewed = PaymentsKit.Single(Map(Invoice("subscription_payment_success", "renewal")));

        Assert.Equal(EventTypes.SubscriptionRenewed, renewed.Type);
        Assert.Equal("7", renewed.Order!.OrderId);
        Assert.Equal(999, renewed.Order.Amount);
        Assert.Equal("1", renewed.Subscription!.SubscriptionId);
        Assert.Equal("johndoe@example.com", renewed.Subject.Email);
        Assert.IsType<MapResult.Ignored>(Map(Invoice("subscription_payment_success", "initial")));
    }

    [Fact]
    public void SubscriptionPaymentFailed_IsPaymentFailed()
    {
        var e = PaymentsKit.Single(Map(Invoice("subscription_payment_failed", "renewal", "pending")));

        Assert.Equal(EventTypes.PaymentFailed, e.Type);
        Assert.Equal("past_due", e.Subscription!.Status);
        Assert.Equal("7", e.Order!.OrderId);
    }

    [Fact]
    public void OtherEvents_AreIgnored()
    {
        Assert.IsType<MapResult.Ignored>(Map(Subscription("subscription_updated")));
    }
}
