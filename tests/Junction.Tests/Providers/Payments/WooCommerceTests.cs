using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.WooCommerce;

namespace Junction.Tests.Providers.Payments;

/// <summary>WooCommerce order webhooks: the REST API v3 order (woocommerce.github.io/woocommerce-rest-api-docs, "Retrieve an order").</summary>
public sealed class WooCommerceTests
{
    private const string Secret = "wc_webhook_secret_2f9c";
    private const string NewSecret = "wc_webhook_secret_7a1d";
    private static readonly WooCommerceProvider Provider = new();

    public static string Order(string status = "processing", bool paid = true, string refunds = "[]", bool completed = false,
        string modifiedGmt = "2017-03-22T19:28:08") => $$$"""
        {
          "id": 727,
          "parent_id": 0,
          "number": "727",
          "order_key": "wc_order_58d2d042d1d",
          "created_via": "checkout",
          "version": "8.9.1",
          "status": "{{{status}}}",
          "currency": "USD",
          "date_created": "2017-03-22T16:28:02",
          "date_created_gmt": "2017-03-22T19:28:02",
          "date_modified": "2017-03-22T16:28:08",
          "date_modified_gmt": "{{{modifiedGmt}}}",
          "discount_total": "0.00",
          "discount_tax": "0.00",
          "shipping_total": "10.00",
          "shipping_tax": "0.00",
          "cart_tax": "1.35",
          "total": "29.35",
          "total_tax": "1.35",
          "prices_include_tax": false,
          "customer_id": 0,
          "customer_ip_address": "",
          "customer_user_agent": "",
          "customer_note": "",
          "billing": {"first_name": "John", "last_name": "Doe", "company": "", "address_1": "969 Market", "address_2": "", "city": "San Francisco",
                      "state": "CA", "postcode": "94103", "country": "US", "email": "John.Doe@Example.com", "phone": "+1 (555) 555-5555"},
          "shipping": {"first_name": "John", "last_name": "Doe", "company": "", "address_1": "969 Market", "address_2": "", "city": "San Francisco",
                       "state": "CA", "postcode": "94103", "country": "US"},
          "payment_method": "stripe",
          "payment_method_title": "Credit card (Stripe)",
          "transaction_id": "{{{(paid ? "ch_3PgRp2LkdIwHu7ix0x2yZx3N" : "")}}}",
          "date_paid": {{{(paid ? "\"2017-03-22T16:28:08\"" : "null")}}},
          "date_paid_gmt": {{{(paid ? "\"2017-03-22T19:28:08\"" : "null")}}},
          "date_completed": {{{(completed ? "\"2017-03-23T10:00:00\"" : "null")}}},
          "date_completed_gmt": {{{(completed ? "\"2017-03-23T13:00:00\"" : "null")}}},
          "cart_hash": "",
          "meta_data": [
            {"id": 13106, "key": "_download_permissions_granted", "value": "yes"},
            {"id": 13107, "key": "utm_source", "value": "facebook"},
            {"id": 13108, "key": "utm_campaign", "value": "spring-sale"},
            {"id": 13109, "key": "purchase_token", "value": "jt_woo_5"}
          ],
          "line_items": [
            {"id": 315, "name": "Woo Single #1", "product_id": 93, "variation_id": 0, "quantity": 2, "tax_class": "", "subtotal": "6.00",
             "subtotal_tax": "0.45", "total": "6.00", "total_tax": "0.45", "taxes": [{"id": 75, "total": "0.45", "subtotal": "0.45"}],
             "meta_data": [], "sku": "", "price": 3},
            {"id": 316, "name": "Ship Your Idea &ndash; Color: Black, Size: M Test", "product_id": 22, "variation_id": 23, "quantity": 1,
             "tax_class": "", "subtotal": "12.00", "subtotal_tax": "0.90", "total": "12.00", "total_tax": "0.90",
             "taxes": [{"id": 75, "total": "0.9", "subtotal": "0.9"}], "meta_data": [{"id": 2095, "key": "pa_color", "value": "black"}],
             "sku": "Bar3", "price": 12}
          ],
          "tax_lines": [{"id": 318, "rate_code": "US-CA-STATE TAX", "rate_id": 75, "label": "State Tax", "compound": false, "tax_total": "1.35", "shipping_tax_total": "0.00", "meta_data": []}],
          "shipping_lines": [{"id": 317, "method_title": "Flat Rate", "method_id": "flat_rate", "total": "10.00", "total_tax": "0.00", "taxes": [], "meta_data": []}],
          "fee_lines": [],
          "coupon_lines": [],
          "refunds": {{{refunds}}}
        }
        """;

    private static Dictionary<string, string> Headers(string topic) => new()
    {
        ["x-wc-webhook-topic"] = topic,
        ["x-wc-webhook-resource"] = topic.Split('.')[0],
        ["x-wc-webhook-event"] = topic.Split('.')[1],
        ["x-wc-webhook-id"] = "3",
        ["x-wc-webhook-delivery-id"] = "36e520ebabc2fa725092ff4a47acedf2",
        ["x-wc-webhook-source"] = "https://shop.example.com/",
    };

    private static MapResult Map(string body, string topic = "order.updated") =>
        Provider.Mapper.Map(PaymentsKit.Raw("woocommerce", body, headers: Headers(topic)));

    private static SignatureCheck Verify(string body, string? signature, params string[] secrets) =>
        Provider.Verify(signature is null ? PaymentsKit.Request(body) : PaymentsKit.Request(body, null, ("X-WC-Webhook-Signature", signature)),
            secrets, TimeSpan.FromSeconds(300), PaymentsKit.Received);

    private static CanonicalEvent Of(MapResult result, string type) => Assert.Single(PaymentsKit.Events(result), e => e.Type == type);

    [Fact]
    public void Verify_AcceptsBase64SignatureOfTheRawBody_AndRotation()
    {
        var body = Order();

        Assert.True(Verify(body, PaymentsKit.WooCommerce(Secret, body), Secret).IsValid);
        Assert.True(Verify(body, PaymentsKit.WooCommerce(NewSecret, body), Secret, NewSecret).IsValid);
    }

    [Fact]
    public void Verify_RefusesTamperedBody_WrongSecret_AndMissingHeader()
    {
        var body = Order();

        Assert.Equal(SignatureFailure.BadSignature, Verify(body.Replace("29.35", "0.01", StringComparison.Ordinal), PaymentsKit.WooCommerce(Secret, body), Secret).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(body, PaymentsKit.WooCommerce("other", body), Secret).Failure);
        Assert.Equal(SignatureFailure.MissingSignature, Verify(body, null, Secret).Failure);
    }

    [Fact]
    public void Handshake_AnswersTheCreationPing_AndNothingElse()
    {
        var config = new Junction.Config.SourceConfig { Id = "woo", Provider = "woocommerce", Secrets = [Secret] };

        var reply = Provider.Handshake(PaymentsKit.Request("webhook_id=3"), config);
        Assert.NotNull(reply);
        Assert.Equal(200, reply.Status);

        var body = Order();
        Assert.Null(Provider.Handshake(PaymentsKit.Request(body, null, ("X-WC-Webhook-Signature", PaymentsKit.WooCommerce(Secret, body))), config));
        Assert.Null(Provider.Handshake(PaymentsKit.Request("webhook_id=3&x=1"), config));
        Assert.Null(Provider.Handshake(PaymentsKit.Request("webhook_id=3", null, ("X-WC-Webhook-Signature", "abc=")), config));
    }

    [Fact]
    public void DedupKey_IgnoresTheDeliveryId_ButNotANewState()
    {
        static string? Key(string body) => Provider.DedupKey(PaymentsKit.Request(body, null, ("X-WC-Webhook-Topic", "order.updated"),
            ("X-WC-Webhook-Delivery-ID", Guid.NewGuid().ToString("N"))));

        Assert.Equal("order.updated:727:2017-03-22T19:28:08:processing", Key(Order()));
        Assert.Equal(Key(Order()), Key(Order()));
        Assert.NotEqual(Key(Order()), Key(Order("completed")));
        Assert.NotEqual(Key(Order()), Key(Order(modifiedGmt: "2017-03-22T19:30:00")));
    }

    [Fact]
    public void ProcessingOrder_IsOrderPaid_FieldByField_WithTheSiteOffsetKept()
    {
        var e = PaymentsKit.Single(Map(Order(), "order.created"));

        Assert.Equal(EventTypes.OrderPaid, e.Type);
        Assert.Equal("order.created", e.ProviderType);
        Assert.Equal(new DateTimeOffset(2017, 3, 22, 19, 28, 8, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal("-03:00", e.OriginalTimezone);
        Assert.False(e.TestMode);
        Assert.Equal("john.doe@example.com", e.Subject.Email);
        Assert.Null(e.Subject.CustomerId);
        Assert.Equal("jt_woo_5", e.Subject.PurchaseToken);
        Assert.Equal("John Doe", e.Subject.Name);
        Assert.Equal("+15555555555", e.Subject.Phone);
        var order = e.Order!;
        Assert.Equal("727", order.OrderId);
        Assert.Equal(2935, order.Amount);
        Assert.Equal("USD", order.Currency);
        Assert.Equal(["wc_order_58d2d042d1d", "ch_3PgRp2LkdIwHu7ix0x2yZx3N"], order.RelatedIds);
        Assert.Equal(2, order.Items.Count);
        Assert.Equal("93", order.Items[0].Sku);
        Assert.Equal("93", order.Items[0].ProductId);
        Assert.Null(order.Items[0].PriceId);
        Assert.Equal(2, order.Items[0].Quantity);
        Assert.Equal(600, order.Items[0].Amount);
        Assert.Equal("Bar3", order.Items[1].Sku);
        Assert.Equal("23", order.Items[1].PriceId);
        Assert.Equal(1200, order.Items[1].Amount);
        Assert.Equal("facebook", e.Attribution!.UtmSource);
        Assert.Equal("spring-sale", e.Attribution.UtmCampaign);
    }

    [Fact]
    public void RepeatedUpdatesOfThePaidOrder_AreOneFact()
    {
        var created = PaymentsKit.Single(Map(Order(), "order.created"));
        var updated = PaymentsKit.Single(Map(Order(modifiedGmt: "2017-03-22T19:40:00")));

        Assert.Equal(created.Id, updated.Id);
    }

    [Fact]
    public void CompletedOrder_IsPaidAndFulfilled()
    {
        var result = Map(Order("completed", completed: true));

        Assert.Equal([EventTypes.OrderPaid, EventTypes.OrderFulfilled], PaymentsKit.Events(result).Select(e => e.Type));
        var fulfilled = Of(result, EventTypes.OrderFulfilled);
        Assert.Equal(new DateTimeOffset(2017, 3, 23, 13, 0, 0, TimeSpan.Zero), fulfilled.OccurredAt);
        Assert.Equal("727", fulfilled.Order!.OrderId);
        Assert.Equal(Of(Map(Order()), EventTypes.OrderPaid).Id, Of(result, EventTypes.OrderPaid).Id);
    }

    [Theory]
    [InlineData("pending")]
    [InlineData("on-hold")]
    public void UnpaidOrder_IsOrderPending(string status)
    {
        var e = PaymentsKit.Single(Map(Order(status, paid: false), "order.created"));

        Assert.Equal(EventTypes.OrderPending, e.Type);
        Assert.Equal(new DateTimeOffset(2017, 3, 22, 19, 28, 2, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal(2935, e.Order!.Amount);
    }

    [Fact]
    public void ProcessingWithoutDatePaid_IsOnlyPending()
    {
        Assert.Equal(EventTypes.OrderPending, PaymentsKit.Single(Map(Order(paid: false))).Type);
    }

    [Fact]
    public void FailedOrder_IsPaymentFailed()
    {
        Assert.Equal(EventTypes.PaymentFailed, PaymentsKit.Single(Map(Order("failed", paid: false))).Type);
    }

    [Fact]
    public void CancelledUnpaidOrder_IsCheckoutAbandoned()
    {
        Assert.Equal(EventTypes.CheckoutAbandoned, PaymentsKit.Single(Map(Order("cancelled", paid: false))).Type);
    }

    [Fact]
    public void PartialRefund_IsOrderRefunded_ForThatRefund_AlongsideThePaidFact()
    {
        var result = Map(Order(refunds: """[{"id": 730, "reason": "damaged", "total": "-10.00"}]"""));

        var refund = Of(result, EventTypes.OrderRefunded);
        Assert.Equal("727", refund.Order!.OrderId);
        Assert.Equal("730", refund.Order.RefundId);
        Assert.Equal(1000, refund.Order.RefundAmount);
        Assert.Equal(1000, refund.Order.RefundedTotal);
        Assert.False(refund.Order.FullyRefunded);
        Assert.Equal("USD", refund.Order.Currency);
        Assert.Equal("john.doe@example.com", refund.Subject.Email);
        Assert.Equal(Of(Map(Order()), EventTypes.OrderPaid).Id, Of(result, EventTypes.OrderPaid).Id);
    }

    [Fact]
    public void FullRefund_AfterAPartialOne_IsFullyRefunded_AndTheEarlierRefundKeepsItsFact()
    {
        var partial = Of(Map(Order(refunds: """[{"id": 730, "reason": "damaged", "total": "-10.00"}]""")), EventTypes.OrderRefunded);
        var result = Map(Order("refunded", refunds: """[{"id": 731, "reason": "", "total": "-19.35"}, {"id": 730, "reason": "damaged", "total": "-10.00"}]"""));

        var refunds = PaymentsKit.Events(result).Where(e => e.Type == EventTypes.OrderRefunded).ToList();
        Assert.Equal(2, refunds.Count);
        Assert.Equal(partial.Id, refunds[0].Id);
        Assert.Equal(partial.Order!.RefundedTotal, refunds[0].Order!.RefundedTotal);
        Assert.Equal(partial.Order.FullyRefunded, refunds[0].Order!.FullyRefunded);
        var last = refunds[1];
        Assert.Equal("731", last.Order!.RefundId);
        Assert.Equal(1935, last.Order.RefundAmount);
        Assert.Equal(2935, last.Order.RefundedTotal);
        Assert.True(last.Order.FullyRefunded);
    }

    [Fact]
    public void RefundedStatusWithoutRefundRecords_IsAFullRefund()
    {
        var refund = Of(Map(Order("refunded")), EventTypes.OrderRefunded);

        Assert.Equal(2935, refund.Order!.RefundAmount);
        Assert.True(refund.Order.FullyRefunded);
    }

    [Fact]
    public void RefundedStatusFirstWithoutRecords_ThenListingTheRefund_IsOneFact()
    {
        var before = Of(Map(Order("refunded")), EventTypes.OrderRefunded);
        var after = Of(Map(Order("refunded", refunds: """[{"id": 731, "reason": "", "total": "-29.35"}]""")), EventTypes.OrderRefunded);

        Assert.Equal(before.Id, after.Id);
        Assert.Equal(2935, after.Order!.RefundAmount);
        Assert.True(after.Order.FullyRefunded);
    }

    [Fact]
    public void PartialThenFullRefund_TheCompletingRefundIsTheFullRefundFact()
    {
        var withoutRecords = Of(Map(Order("refunded")), EventTypes.OrderRefunded);
        var refunds = PaymentsKit.Events(Map(Order("refunded", refunds: """[{"id": 731, "reason": "", "total": "-19.35"}, {"id": 730, "reason": "damaged", "total": "-10.00"}]""")))
            .Where(e => e.Type == EventTypes.OrderRefunded).ToList();

        Assert.Equal(2, refunds.Count);
        Assert.NotEqual(withoutRecords.Id, refunds[0].Id); // 730, partial
        Assert.Equal(withoutRecords.Id, refunds[1].Id);    // 731 completes the order
        Assert.Equal("731", refunds[1].Order!.RefundId);
    }

    [Fact]
    public void WooCommerceOrderAttributionMeta_GivesUtmReferrerAndLandingPage()
    {
        // WooCommerce 8.5+ order attribution, as its meta_data entries appear in a REST order.
        const string attribution = """
            {"id": 4617761, "key": "_wc_order_attribution_source_type", "value": "utm"},
            {"id": 4617762, "key": "_wc_order_attribution_referrer", "value": "https://www.google.com/"},
            {"id": 4617766, "key": "_wc_order_attribution_utm_source", "value": "google"},
            {"id": 4617767, "key": "_wc_order_attribution_utm_medium", "value": "cpc"},
            {"id": 4617769, "key": "_wc_order_attribution_utm_content", "value": "(none)"},
            {"id": 4617768, "key": "_wc_order_attribution_session_entry", "value": "https://shop.example.com/course/?utm_source=google"},
            """;
        var body = Order()
            .Replace("""{"id": 13107, "key": "utm_source", "value": "facebook"},""", attribution, StringComparison.Ordinal)
            .Replace("""{"id": 13108, "key": "utm_campaign", "value": "spring-sale"},""", "", StringComparison.Ordinal);
        Assert.Contains("_wc_order_attribution_utm_source", body, StringComparison.Ordinal);

        var a = Of(Map(body), EventTypes.OrderPaid).Attribution!;

        Assert.Equal("google", a.UtmSource);
        Assert.Equal("cpc", a.UtmMedium);
        Assert.Null(a.UtmContent);
        Assert.Equal("https://www.google.com/", a.Referrer);
        Assert.Equal("https://shop.example.com/course/?utm_source=google", a.LandingPage);
    }

    [Fact]
    public void OtherTopics_AreIgnored_AndAMissingTopicIsQuarantined()
    {
        Assert.IsType<MapResult.Ignored>(Map("""{"id": 93, "name": "Woo Single #1"}""", "product.updated"));
        var q = Assert.IsType<MapResult.Quarantined>(Provider.Mapper.Map(PaymentsKit.Raw("woocommerce", Order())));
        Assert.Contains("X-WC-Webhook-Topic", q.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void OrderWithoutCurrency_IsQuarantined_NamingTheField()
    {
        var body = Order().Replace("\"currency\": \"USD\",", "", StringComparison.Ordinal);

        Assert.StartsWith("currency:", Assert.IsType<MapResult.Quarantined>(Map(body)).Reason, StringComparison.Ordinal);
    }
}
