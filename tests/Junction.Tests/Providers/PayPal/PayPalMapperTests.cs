using System.Text;
using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;
using Junction.Integrations.PayPal;

namespace Junction.Tests.Providers.PayPal;

/// <summary>PayPal REST events, shaped as PayPal's documentation shows them, mapped field by field.</summary>
public sealed class PayPalMapperTests
{
    private static readonly PayPalMapper Mapper = new();

    private static RawInput Raw(string body, bool canEnrich = false, Dictionary<string, string>? enrichment = null,
        string certUrl = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb") => new()
    {
        RawId = "raw-1",
        Source = "paypal",
        Provider = "paypal",
        Body = Encoding.UTF8.GetBytes(body),
        Headers = new Dictionary<string, string> { ["paypal-cert-url"] = certUrl, ["content-type"] = "application/json" },
        ContentType = "application/json",
        TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
        ReceivedAt = new DateTimeOffset(2026, 11, 20, 18, 45, 13, TimeSpan.Zero),
        DedupKey = "WH-x",
        CanEnrich = canEnrich,
        Enrichment = (enrichment ?? []).ToDictionary(kv => kv.Key, kv => JsonDocument.Parse(kv.Value).RootElement, StringComparer.Ordinal),
    };

    private static CanonicalEvent Only(MapResult result)
    {
        var mapped = Assert.IsType<MapResult.Mapped>(result);
        return Assert.Single(mapped.Events);
    }

    [Fact]
    public void CaptureCompleted_IsOrderPaid_OnTheCapture_WithThePayPalOrderAmongRelatedIds()
    {
        var result = Mapper.Map(Raw(PayPalFixtures.CaptureCompleted()));
        var e = Only(result);

        Assert.Equal("PAYMENT.CAPTURE.COMPLETED", result.ProviderType);
        Assert.Equal(EventTypes.OrderPaid, e.Type);
        Assert.Equal("PAYMENT.CAPTURE.COMPLETED", e.ProviderType);
        Assert.Equal("29Y24445UY2083144", e.Order!.OrderId);
        Assert.Equal(10000, e.Order.Amount);
        Assert.Equal("USD", e.Order.Currency);
        Assert.Equal(["89T257400V0473133", "INV-2022-0042"], e.Order.RelatedIds);
        Assert.Equal(new DateTimeOffset(2022, 2, 2, 0, 22, 38, TimeSpan.Zero), e.OccurredAt);
        Assert.Null(e.OriginalTimezone);
        Assert.Equal("jt_8f3a2c", e.Subject.PurchaseToken);
        Assert.Null(e.Subject.Email);
        Assert.Equal("ig", e.Attribution!.UtmSource);
        Assert.Equal("launch", e.Attribution.UtmCampaign);
        Assert.True(e.TestMode); // resource links point at api.sandbox.paypal.com
        Assert.Equal(CanonicalEvent.MakeId("paypal", "order.paid:29Y24445UY2083144"), e.Id);
        Assert.Equal("raw-1", e.RawId);
    }

    [Fact]
    public void CaptureCompleted_WithCredentials_AsksForTheOrder_ThenTakesBuyerAndItemsFromIt()
    {
        var first = Mapper.Map(Raw(PayPalFixtures.CaptureCompleted(), canEnrich: true));
        var request = Assert.Single(Assert.IsType<MapResult.NeedsEnrichment>(first).Requests);
        Assert.Equal(PayPalMapper.OrderKey, request.Key);
        Assert.Equal("/v2/checkout/orders/89T257400V0473133", request.PathAndQuery);

        var e = Only(Mapper.Map(Raw(PayPalFixtures.CaptureCompleted(), canEnrich: true,
            new() { [PayPalMapper.OrderKey] = PayPalFixtures.Order() })));

        Assert.Equal("ada.lovelace+course@example.com", e.Subject.Email);
        Assert.Equal(" Ada.Lovelace+Course@Example.com", e.Subject.EmailRaw);
        Assert.Equal("QYR5Z8XDVJNXQ", e.Subject.CustomerId);
        Assert.Equal("Ada Lovelace", e.Subject.Name);
        Assert.Equal("jt_8f3a2c", e.Subject.PurchaseToken);
        Assert.Collection(e.Order!.Items,
            i =>
            {
                Assert.Equal("course-pro", i.Sku);
                Assert.Equal("Course Pro", i.Name);
                Assert.Equal(2, i.Quantity);
                Assert.Equal(8000, i.Amount);
            },
            i =>
            {
                Assert.Equal("workbook", i.Sku);
                Assert.Equal(1, i.Quantity);
                Assert.Equal(2000, i.Amount);
            });
    }

    [Theory]
    [InlineData("PAYMENT.CAPTURE.PENDING", "PENDING", "order.pending")]
    [InlineData("PAYMENT.CAPTURE.DENIED", "DECLINED", "payment.failed")]
    [InlineData("PAYMENT.CAPTURE.DECLINED", "DECLINED", "payment.failed")]
    public void OtherCaptureStates_ArePendingOrFailed_NeverPaid(string type, string status, string canonical)
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.CaptureCompleted(type: type, status: status))));

        Assert.Equal(canonical, e.Type);
        // A pending payment is about the order (one fact with CHECKOUT.ORDER.APPROVED); the rest name the capture.
        var key = canonical == "order.pending" ? "89T257400V0473133" : "29Y24445UY2083144";
        Assert.Equal(key, e.Order!.OrderId);
        Assert.Equal(CanonicalEvent.MakeId("paypal", $"{canonical}:{key}"), e.Id);
    }

    [Fact]
    public void Refund_WithoutCredentials_UsesTheCaptureFromTheUpLink_AndKeepsTheMerchantsOffset()
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.CaptureRefunded())));

        Assert.Equal(EventTypes.OrderRefunded, e.Type);
        Assert.Equal("0JF852973C016714D", e.Order!.OrderId);
        Assert.Empty(e.Order.RelatedIds); // the Orders v2 id needs the capture, fetched only with credentials
        Assert.Equal("1Y107995YT783435V", e.Order.RefundId);
        Assert.Equal(99, e.Order.RefundAmount);
        Assert.Equal(198, e.Order.RefundedTotal);
        Assert.Null(e.Order.FullyRefunded);
        Assert.Equal("USD", e.Order.Currency);
        Assert.Equal(new DateTimeOffset(2018, 8, 15, 19, 13, 29, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal(TimeSpan.Zero, e.OccurredAt.Offset);
        Assert.Equal("-07:00", e.OriginalTimezone);
        Assert.False(e.TestMode);
        Assert.Equal(CanonicalEvent.MakeId("paypal", "order.refunded:1Y107995YT783435V"), e.Id);
    }

    [Fact]
    public void Refund_WithCredentials_FetchesTheCaptureThenTheOrder_ForBuyerAndItems()
    {
        var body = PayPalFixtures.CaptureRefunded();
        var first = Assert.Single(Assert.IsType<MapResult.NeedsEnrichment>(Mapper.Map(Raw(body, canEnrich: true))).Requests);
        Assert.Equal(PayPalMapper.CaptureKey, first.Key);
        Assert.Equal("/v2/payments/captures/0JF852973C016714D", first.PathAndQuery);

        var withCapture = new Dictionary<string, string> { [PayPalMapper.CaptureKey] = PayPalFixtures.Capture() };
        var second = Assert.Single(Assert.IsType<MapResult.NeedsEnrichment>(Mapper.Map(Raw(body, true, withCapture))).Requests);
        Assert.Equal("/v2/checkout/orders/5O190127TN364715T", second.PathAndQuery);

        withCapture[PayPalMapper.OrderKey] = PayPalFixtures.Order("5O190127TN364715T");
        var e = Only(Mapper.Map(Raw(body, true, withCapture)));

        Assert.Equal("0JF852973C016714D", e.Order!.OrderId);
        Assert.Equal(1000, e.Order.Amount);
        Assert.Equal(99, e.Order.RefundAmount);
        Assert.Equal(198, e.Order.RefundedTotal);
        Assert.False(e.Order.FullyRefunded);
        Assert.Contains("5O190127TN364715T", e.Order.RelatedIds);
        Assert.Equal("ada.lovelace+course@example.com", e.Subject.Email);
        Assert.Equal("jt_refund_token", e.Subject.PurchaseToken);
    }

    [Fact]
    public void Refund_OfTheWholeCapture_IsFullyRefunded()
    {
        var enrichment = new Dictionary<string, string>
        {
            [PayPalMapper.CaptureKey] = PayPalFixtures.Capture(value: "1.98", status: "REFUNDED"),
            [PayPalMapper.OrderKey] = PayPalFixtures.Order("5O190127TN364715T"),
        };

        var e = Only(Mapper.Map(Raw(PayPalFixtures.CaptureRefunded(), true, enrichment)));

        Assert.True(e.Order!.FullyRefunded);
    }

    [Fact]
    public void Reversal_IsAFullRefund_OfTheReversedCapture()
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.CaptureReversed())));

        Assert.Equal(EventTypes.OrderRefunded, e.Type);
        Assert.Equal("PAYMENT.CAPTURE.REVERSED", e.ProviderType);
        Assert.Equal("4L335234718889942", e.Order!.OrderId);
        Assert.Equal("09E71677NS257044M", e.Order.RefundId);
        Assert.Equal(251, e.Order.RefundAmount);
        Assert.True(e.Order.FullyRefunded);
    }

    [Fact]
    public void Refund_WithoutAnUpLinkToACapture_IsQuarantinedNamingTheField()
    {
        var body = PayPalFixtures.CaptureRefunded().Replace("\"rel\": \"up\"", "\"rel\": \"parent\"", StringComparison.Ordinal);

        var result = Assert.IsType<MapResult.Quarantined>(Mapper.Map(Raw(body)));

        Assert.StartsWith("resource.links[rel=up].href: required", result.Reason, StringComparison.Ordinal);
        Assert.Equal("PAYMENT.CAPTURE.REFUNDED", result.ProviderType);
    }

    [Fact]
    public void DisputeCreated_IsChargebackOpened_OnTheDisputedTransaction()
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.DisputeCreated)));

        Assert.Equal(EventTypes.ChargebackOpened, e.Type);
        Assert.Equal("00D10444LD479031K", e.Order!.OrderId);
        Assert.Equal("PP-000-042-663-135", e.Chargeback!.DisputeId);
        Assert.Equal("MERCHANDISE_OR_SERVICE_NOT_RECEIVED", e.Chargeback.Reason);
        Assert.Equal("OPEN", e.Chargeback.Status);
        Assert.Equal(300, e.Chargeback.Amount);
        Assert.Equal("USD", e.Chargeback.Currency);
        Assert.Null(e.Chargeback.Outcome);
        Assert.Equal(new DateTimeOffset(2018, 6, 21, 13, 35, 44, TimeSpan.Zero), e.OccurredAt);
        Assert.True(e.TestMode);
    }

    [Theory]
    [InlineData("RESOLVED_BUYER_FAVOUR", "lost")]
    [InlineData("ACCEPTED", "lost")]
    [InlineData("RESOLVED_SELLER_FAVOUR", "won")]
    [InlineData("CANCELED_BY_BUYER", "won")]
    public void DisputeResolved_IsChargebackClosed_WithTheOutcome(string code, string outcome)
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.DisputeResolved(code))));

        Assert.Equal(EventTypes.ChargebackClosed, e.Type);
        Assert.Equal(outcome, e.Chargeback!.Outcome);
        Assert.Equal("00D10444LD479031K", e.Order!.OrderId);
        Assert.Equal(new DateTimeOffset(2018, 6, 21, 13, 55, 58, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal(CanonicalEvent.MakeId("paypal", "chargeback.closed:PP-000-042-663-135"), e.Id);
    }

    [Fact]
    public void DisputeResolved_WithoutAKnownOutcome_IsQuarantined()
    {
        var result = Assert.IsType<MapResult.Quarantined>(Mapper.Map(Raw(PayPalFixtures.DisputeResolved("NONE"))));

        Assert.StartsWith("resource.dispute_outcome.outcome_code:", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SubscriptionCancelled_IsSubscriptionCanceled_WithTheSubscriber()
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.SubscriptionCancelled)));

        Assert.Equal(EventTypes.SubscriptionCanceled, e.Type);
        Assert.Equal("I-BW452GLLEP1G", e.Subscription!.SubscriptionId);
        Assert.Equal("CANCELLED", e.Subscription.Status);
        Assert.Equal("Item out of stock", e.Subscription.Reason);
        Assert.Equal(new DateTimeOffset(2022, 6, 24, 19, 58, 36, TimeSpan.Zero), e.Subscription.CanceledAt);
        Assert.Equal("sb-5z4c4317507113@personal.example.com", e.Subject.Email);
        Assert.Equal("9B84P2Q6BE4BN", e.Subject.CustomerId);
        Assert.Equal("John Doe", e.Subject.Name);
        Assert.Equal("P-5ML4271244454362WXNWU5NQ", Assert.Single(e.Order!.Items).PriceId);
    }

    [Fact]
    public void SubscriptionSale_IsSubscriptionRenewed_InV1Money()
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.SaleCompleted)));

        Assert.Equal(EventTypes.SubscriptionRenewed, e.Type);
        Assert.Equal("I-0HNJGFKLTLMP", e.Subscription!.SubscriptionId);
        Assert.Equal("5CS38179PL895402Y", e.Order!.OrderId);
        Assert.Equal(1490, e.Order.Amount);
        Assert.Equal("USD", e.Order.Currency);
        Assert.True(e.TestMode);
    }

    [Fact]
    public void SubscriptionSale_WithCredentials_TakesTheSubscriberFromTheSubscription()
    {
        var request = Assert.Single(Assert.IsType<MapResult.NeedsEnrichment>(Mapper.Map(Raw(PayPalFixtures.SaleCompleted, canEnrich: true))).Requests);
        Assert.Equal("/v1/billing/subscriptions/I-0HNJGFKLTLMP", request.PathAndQuery);
        var subscription = JsonDocument.Parse(PayPalFixtures.SubscriptionCancelled).RootElement.GetProperty("resource").GetRawText()
            .Replace("CANCELLED", "ACTIVE", StringComparison.Ordinal);

        var e = Only(Mapper.Map(Raw(PayPalFixtures.SaleCompleted, true, new() { [PayPalMapper.SubscriptionKey] = subscription })));

        Assert.Equal("sb-5z4c4317507113@personal.example.com", e.Subject.Email);
        Assert.Equal("ACTIVE", e.Subscription!.Status);
        Assert.Equal("P-5ML4271244454362WXNWU5NQ", Assert.Single(e.Order!.Items).PriceId);
    }

    [Fact]
    public void OneOffSale_WithoutAgreement_IsIgnored()
    {
        var body = PayPalFixtures.SaleCompleted.Replace("\"billing_agreement_id\": \"I-0HNJGFKLTLMP\",", "", StringComparison.Ordinal);

        Assert.IsType<MapResult.Ignored>(Mapper.Map(Raw(body)));
    }

    [Fact]
    public void OrderApproved_IsOrderPending_WithTheBuyerFromTheOrder()
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.OrderApproved)));

        Assert.Equal(EventTypes.OrderPending, e.Type);
        Assert.Equal("9JL52742K01513702", e.Order!.OrderId);
        Assert.Equal(499981, e.Order.Amount);
        Assert.Equal("sb-4dj7k21794940@personal.example.com", e.Subject.Email);
        Assert.Equal("LBXGJE7WM6F5A", e.Subject.CustomerId);
        Assert.Equal("jt_approved_1", e.Subject.PurchaseToken);
    }

    [Fact]
    public void SandboxCertUrl_MarksTestMode_EvenWithLiveLinks()
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.CaptureRefunded(),
            certUrl: "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-2d7ab011")));

        Assert.True(e.TestMode);
    }

    [Fact]
    public void UnusedType_IsIgnored_AndBrokenBodiesAreQuarantinedWithTheField()
    {
        var ignored = Assert.IsType<MapResult.Ignored>(Mapper.Map(Raw("""{"id":"WH-1","event_type":"PAYMENT.AUTHORIZATION.CREATED","create_time":"2026-11-20T18:45:12Z","resource":{}}""")));
        Assert.Contains("PAYMENT.AUTHORIZATION.CREATED", ignored.Reason, StringComparison.Ordinal);

        Assert.StartsWith("body:", Assert.IsType<MapResult.Quarantined>(Mapper.Map(Raw("not json"))).Reason, StringComparison.Ordinal);
        Assert.StartsWith("event_type:", Assert.IsType<MapResult.Quarantined>(Mapper.Map(Raw("""{"id":"WH-1"}"""))).Reason, StringComparison.Ordinal);
        var noAmount = PayPalFixtures.CaptureCompleted().Replace("\"amount\": { \"value\": \"100.00\"", "\"amount\": { \"value\": \"lots\"", StringComparison.Ordinal);
        Assert.Equal("resource.amount.value: expected a decimal amount such as \"10.99\"; got 'lots'",
            Assert.IsType<MapResult.Quarantined>(Mapper.Map(Raw(noAmount))).Reason);
        var noTime = PayPalFixtures.CaptureCompleted().Replace("\"create_time\": \"2022-02-02T00:23:12.336Z\",", "", StringComparison.Ordinal);
        Assert.StartsWith("create_time: required", Assert.IsType<MapResult.Quarantined>(Mapper.Map(Raw(noTime))).Reason, StringComparison.Ordinal);
    }
}
