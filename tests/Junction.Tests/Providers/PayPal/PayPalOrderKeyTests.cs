using System.Text;
using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;
using Junction.Integrations.PayPal;

namespace Junction.Tests.Providers.PayPal;

/// <summary>
/// One order key for a PayPal purchase, its refunds and its disputes, without API credentials; the
/// event types a subscription and a completed order add; related ids that are ids only.
/// </summary>
public sealed class PayPalOrderKeyTests
{
    private static readonly PayPalMapper Mapper = new();

    private static RawInput Raw(string body, bool canEnrich = false, Dictionary<string, string>? enrichment = null) => new()
    {
        RawId = "raw-1",
        Source = "paypal",
        Provider = "paypal",
        Body = Encoding.UTF8.GetBytes(body),
        Headers = new Dictionary<string, string> { ["content-type"] = "application/json" },
        ContentType = "application/json",
        TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
        ReceivedAt = new DateTimeOffset(2026, 11, 20, 18, 45, 13, TimeSpan.Zero),
        DedupKey = "WH-x",
        CanEnrich = canEnrich,
        Enrichment = (enrichment ?? []).ToDictionary(kv => kv.Key, kv => JsonDocument.Parse(kv.Value).RootElement, StringComparer.Ordinal),
    };

    private static CanonicalEvent Only(MapResult result) => Assert.Single(Assert.IsType<MapResult.Mapped>(result).Events);

    [Fact]
    public void Purchase_Refund_AndDispute_ShareTheCaptureAsOrderId_WithoutCredentials()
    {
        const string capture = "29Y24445UY2083144";
        var paid = Only(Mapper.Map(Raw(PayPalFixtures.CaptureCompleted(captureId: capture))));
        var refund = Only(Mapper.Map(Raw(PayPalFixtures.CaptureRefunded(captureId: capture))));
        var dispute = Only(Mapper.Map(Raw(PayPalFixtures.DisputeCreated.Replace("00D10444LD479031K", capture, StringComparison.Ordinal))));

        Assert.Equal(capture, paid.Order!.OrderId);
        Assert.Equal(capture, refund.Order!.OrderId);
        Assert.Equal(capture, dispute.Order!.OrderId);
        Assert.Contains("89T257400V0473133", paid.Order.RelatedIds); // the Orders v2 order
    }

    [Fact]
    public void Refund_WithCredentials_KeepsTheCaptureAsOrderId_AndAddsTheOrdersV2Id()
    {
        var enrichment = new Dictionary<string, string>
        {
            [PayPalMapper.CaptureKey] = PayPalFixtures.Capture(),
            [PayPalMapper.OrderKey] = PayPalFixtures.Order("5O190127TN364715T"),
        };

        var e = Only(Mapper.Map(Raw(PayPalFixtures.CaptureRefunded(), canEnrich: true, enrichment)));

        Assert.Equal("0JF852973C016714D", e.Order!.OrderId);
        Assert.Equal(["5O190127TN364715T", "INV-2018-0815", "jt_refund_token"], e.Order.RelatedIds);
    }

    [Fact]
    public void CustomIdQueryString_IsParsed_NotKeptAsARelatedId()
    {
        var e = Only(Mapper.Map(Raw(PayPalFixtures.CaptureCompleted())));

        Assert.Equal(["89T257400V0473133", "INV-2022-0042"], e.Order!.RelatedIds);
        Assert.Equal("jt_8f3a2c", e.Subject.PurchaseToken);
        Assert.Equal("ig", e.Attribution!.UtmSource);
    }

    [Fact]
    public void ApprovedOrder_AndItsPendingCapture_AreOneFact()
    {
        var approved = Only(Mapper.Map(Raw(PayPalFixtures.OrderApproved)));
        var pending = Only(Mapper.Map(Raw(PayPalFixtures.CaptureCompleted(type: "PAYMENT.CAPTURE.PENDING", status: "PENDING", orderId: "9JL52742K01513702"))));

        Assert.Equal(EventTypes.OrderPending, pending.Type);
        Assert.Equal(approved.Id, pending.Id);
        Assert.Equal("9JL52742K01513702", pending.Order!.OrderId);
        Assert.Contains("29Y24445UY2083144", pending.Order.RelatedIds);
    }

    [Fact]
    public void OrderCompleted_IsTheCapturesOrderPaid_WithBuyerAndItems()
    {
        var fromOrder = Only(Mapper.Map(Raw(PayPalFixtures.OrderCompleted())));
        var fromCapture = Only(Mapper.Map(Raw(PayPalFixtures.CaptureCompleted())));

        Assert.Equal(EventTypes.OrderPaid, fromOrder.Type);
        Assert.Equal(fromCapture.Id, fromOrder.Id);
        Assert.Equal("29Y24445UY2083144", fromOrder.Order!.OrderId);
        Assert.Equal(["89T257400V0473133", "INV-2022-0042"], fromOrder.Order.RelatedIds);
        Assert.Equal(10000, fromOrder.Order.Amount);
        Assert.Equal("course-pro", Assert.Single(fromOrder.Order.Items).Sku);
        Assert.Equal("ada.lovelace+course@example.com", fromOrder.Subject.Email);
        Assert.Equal("jt_8f3a2c", fromOrder.Subject.PurchaseToken);
        Assert.Equal(new DateTimeOffset(2022, 2, 2, 0, 22, 38, TimeSpan.Zero), fromOrder.OccurredAt);
        Assert.True(fromOrder.TestMode);

        var pending = Only(Mapper.Map(Raw(PayPalFixtures.OrderCompleted("PENDING"))));
        Assert.Equal(Only(Mapper.Map(Raw(PayPalFixtures.OrderApproved.Replace("9JL52742K01513702", "89T257400V0473133", StringComparison.Ordinal)))).Id, pending.Id);
    }

    [Fact]
    public void SaleRefunded_IsOrderRefunded_OnTheSubscriptionSale()
    {
        var sale = Only(Mapper.Map(Raw(PayPalFixtures.SaleCompleted)));
        var result = Mapper.Map(Raw(PayPalFixtures.SaleRefunded()));
        var e = Only(result);

        Assert.Equal("PAYMENT.SALE.REFUNDED", result.ProviderType);
        Assert.Equal(EventTypes.OrderRefunded, e.Type);
        Assert.Equal(sale.Order!.OrderId, e.Order!.OrderId);
        Assert.Equal("5CS38179PL895402Y", e.Order.OrderId);
        Assert.Equal("6YX43824R4443062K", e.Order.RefundId);
        Assert.Equal(1490, e.Order.RefundAmount);
        Assert.Equal("USD", e.Order.Currency);
        Assert.Null(e.Order.FullyRefunded);
        Assert.Equal(new DateTimeOffset(2023, 9, 12, 15, 41, 51, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal("-07:00", e.OriginalTimezone);
        Assert.True(e.TestMode);
        Assert.Equal(CanonicalEvent.MakeId("paypal", "order.refunded:6YX43824R4443062K"), e.Id);

        // Older samples write the refunded total negative; a reversal takes back the whole sale.
        var reversed = Only(Mapper.Map(Raw(PayPalFixtures.SaleRefunded("-14.90", "PAYMENT.SALE.REVERSED"))));
        Assert.Equal(1490, reversed.Order!.RefundAmount);
        Assert.True(reversed.Order.FullyRefunded);
        Assert.Equal("5CS38179PL895402Y", reversed.Order.OrderId);
    }

    [Fact]
    public void SubscriptionPaymentFailed_IsPaymentFailed_PerAttempt()
    {
        var result = Mapper.Map(Raw(PayPalFixtures.SubscriptionPaymentFailed));
        var e = Only(result);

        Assert.Equal(EventTypes.PaymentFailed, e.Type);
        Assert.Equal("I-0HNJGFKLTLMP", e.Subscription!.SubscriptionId);
        Assert.Equal("I-0HNJGFKLTLMP", e.Order!.OrderId);
        Assert.Equal(1490, e.Order.Amount);
        Assert.Equal("USD", e.Order.Currency);
        Assert.Equal("sb-5z4c4317507113@personal.example.com", e.Subject.Email);
        Assert.Equal("jt_sub_1", e.Subject.PurchaseToken);
        Assert.Equal(new DateTimeOffset(2023, 10, 7, 7, 13, 25, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal(CanonicalEvent.MakeId("paypal", "payment.failed:I-0HNJGFKLTLMP:2023-10-07T07:13:25.0000000+00:00"), e.Id);
    }

    [Fact]
    public void SubscriptionExpired_IsCanceled_SuspendedIsIgnored()
    {
        var expired = Only(Mapper.Map(Raw(PayPalFixtures.SubscriptionCancelled
            .Replace("BILLING.SUBSCRIPTION.CANCELLED", "BILLING.SUBSCRIPTION.EXPIRED", StringComparison.Ordinal)
            .Replace("\"CANCELLED\"", "\"EXPIRED\"", StringComparison.Ordinal))));
        Assert.Equal(EventTypes.SubscriptionCanceled, expired.Type);
        Assert.Equal("EXPIRED", expired.Subscription!.Status);
        Assert.Equal(new DateTimeOffset(2022, 6, 24, 19, 58, 36, TimeSpan.Zero), expired.Subscription.EndsAt);

        var suspended = Mapper.Map(Raw(PayPalFixtures.SubscriptionCancelled
            .Replace("BILLING.SUBSCRIPTION.CANCELLED", "BILLING.SUBSCRIPTION.SUSPENDED", StringComparison.Ordinal)));
        Assert.Contains("reactivated", Assert.IsType<MapResult.Ignored>(suspended).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DisputeUpdated_IsIgnored_UnlessItCarriesTheOutcome()
    {
        var progress = PayPalFixtures.DisputeCreated.Replace("CUSTOMER.DISPUTE.CREATED", "CUSTOMER.DISPUTE.UPDATED", StringComparison.Ordinal);
        Assert.IsType<MapResult.Ignored>(Mapper.Map(Raw(progress)));

        var withOutcome = PayPalFixtures.DisputeResolved("RESOLVED_BUYER_FAVOUR").Replace("CUSTOMER.DISPUTE.RESOLVED", "CUSTOMER.DISPUTE.UPDATED", StringComparison.Ordinal);
        var e = Only(Mapper.Map(Raw(withOutcome)));
        Assert.Equal(EventTypes.ChargebackClosed, e.Type);
        Assert.Equal("lost", e.Chargeback!.Outcome);
        Assert.Equal(CanonicalEvent.MakeId("paypal", "chargeback.closed:PP-000-042-663-135"), e.Id);
    }
}
