using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.Gumroad;

namespace Junction.Tests.Providers.Payments;

/// <summary>Gumroad pings (antiwork/gumroad ping_notification.rb), form-encoded as Gumroad sends them, and the URL token.</summary>
public sealed class GumroadTests
{
    private const string Token = "gr_tok_8d2f6c1a9e7b4d30";
    private const string NewToken = "gr_tok_next_51f0a7c3e9d2";
    private const string SaleId = "5wJbZ1wddUJlIm5zYmb9Tw==";
    private static readonly GumroadProvider Provider = new();

    public static (string, string)[] SaleFields(string resource = "sale", bool refunded = false, bool disputed = false, bool disputeWon = false,
        bool recurring = false, bool test = false)
    {
        var fields = new List<(string, string)>
        {
            ("seller_id", "hUfP7mZ_8lrGqk7iYpBv4A=="),
            ("product_id", "Yx3ZYcI1lbx_pLI8bw2kIw=="),
            ("product_name", "Course Pro"),
            ("permalink", "course-pro"),
            ("product_permalink", "https://creator.gumroad.com/l/course-pro"),
            ("short_product_id", "qwxyz"),
            ("email", "Ada.Lovelace@Example.com"),
            ("price", "4900"),
            ("gumroad_fee", "539"),
            ("currency", "usd"),
            ("quantity", "1"),
            ("discover_fee_charged", "false"),
            ("can_contact", "true"),
            ("referrer", "https://instagram.com/"),
            ("card[visual]", "**** **** **** 4242"),
            ("card[type]", "visa"),
            ("card[bin]", ""),
            ("card[expiry_month]", ""),
            ("card[expiry_year]", ""),
            ("order_number", "524459935"),
            ("sale_id", SaleId),
            ("sale_timestamp", "2026-11-20T07:00:05-08:00"),
            ("full_name", "Ada Lovelace"),
            ("purchaser_id", "4862313577133"),
            ("url_params[utm_source]", "newsletter"),
            ("url_params[utm_medium]", "email"),
            ("url_params[utm_campaign]", "bf26"),
            ("url_params[purchase_token]", "jt_gum_77"),
            ("ip_country", "United States"),
            ("is_gift_receiver_purchase", "false"),
            ("refunded", refunded ? "true" : "false"),
            ("resource_name", resource),
            ("disputed", disputed ? "true" : "false"),
            ("dispute_won", disputeWon ? "true" : "false"),
        };
        if (recurring)
        {
            fields.Add(("subscription_id", "sub_Zs0CSUqDZvD4A3j6Qv4wyQ=="));
            fields.Add(("is_recurring_charge", "true"));
            fields.Add(("recurrence", "monthly"));
        }
        if (test) fields.Add(("test", "true"));
        return [.. fields];
    }

    private static string Sale(string resource = "sale", bool refunded = false, bool disputed = false, bool disputeWon = false, bool recurring = false, bool test = false) =>
        PaymentsKit.Form(SaleFields(resource, refunded, disputed, disputeWon, recurring, test));

    private static MapResult Map(string body, string contentType = "application/x-www-form-urlencoded") =>
        Provider.Mapper.Map(PaymentsKit.Raw("gumroad", body, contentType));

    private static SignatureCheck Verify(string? token, params string[] secrets) =>
        Provider.Verify(PaymentsKit.Request(Sale(), token is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["token"] = token }),
            secrets, TimeSpan.FromSeconds(300), PaymentsKit.Received);

    [Fact]
    public void Verify_AcceptsTheConfiguredToken()
    {
        Assert.True(Verify(Token, Token).IsValid);
    }

    [Fact]
    public void Verify_AcceptsEitherTokenWhileRotating()
    {
        Assert.True(Verify(NewToken, Token, NewToken).IsValid);
        Assert.True(Verify(Token, Token, NewToken).IsValid);
    }

    [Fact]
    public void Verify_RefusesMissingToken_AsMissingSignature()
    {
        var check = Verify(null, Token);

        Assert.Equal(SignatureFailure.MissingSignature, check.Failure);
        Assert.Equal("query parameter token is missing", check.Detail);
    }

    [Fact]
    public void Verify_RefusesWrongToken_IncludingAPrefixOfTheRightOne()
    {
        Assert.Equal(SignatureFailure.BadSignature, Verify("gr_tok_wrong_0000000000", Token).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(Token[..^1], Token).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(Token + "x", Token).Failure);
    }

    [Fact]
    public void ValidateSecret_RefusesShortOrUrlUnsafeTokens()
    {
        Assert.Null(Provider.ValidateSecret(Token));
        Assert.NotNull(Provider.ValidateSecret("short"));
        Assert.NotNull(Provider.ValidateSecret("has spaces and & in it!!"));
    }

    [Fact]
    public void DedupKey_IsTheSameOnRetry_ButNewForTheRefundPing()
    {
        var sale = Provider.DedupKey(PaymentsKit.Request(Sale()));
        var retried = Provider.DedupKey(PaymentsKit.Request(Sale() + "&retry_count=1"));
        var refund = Provider.DedupKey(PaymentsKit.Request(Sale("refund", refunded: true)));
        var partial = Provider.DedupKey(PaymentsKit.Request(Sale("refund")));

        Assert.NotNull(sale);
        Assert.Equal(sale, retried);
        Assert.NotEqual(sale, refund);
        Assert.NotEqual(partial, refund);
    }

    [Fact]
    public void Sale_IsOrderPaid_FieldByField()
    {
        var e = PaymentsKit.Single(Map(Sale()));

        Assert.Equal(EventTypes.OrderPaid, e.Type);
        Assert.Equal("sale", e.ProviderType);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 15, 0, 5, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal("-08:00", e.OriginalTimezone);
        Assert.False(e.TestMode);
        Assert.Equal("ada.lovelace@example.com", e.Subject.Email);
        Assert.Equal("Ada.Lovelace@Example.com", e.Subject.EmailRaw);
        Assert.Equal("4862313577133", e.Subject.CustomerId);
        Assert.Equal("jt_gum_77", e.Subject.PurchaseToken);
        Assert.Equal("Ada Lovelace", e.Subject.Name);
        var order = e.Order!;
        Assert.Equal(SaleId, order.OrderId);
        Assert.Equal(4900, order.Amount);
        Assert.Equal("USD", order.Currency);
        Assert.Equal(["524459935"], order.RelatedIds);
        var item = Assert.Single(order.Items);
        Assert.Equal("course-pro", item.Sku);
        Assert.Equal("Yx3ZYcI1lbx_pLI8bw2kIw==", item.ProductId);
        Assert.Equal("Course Pro", item.Name);
        Assert.Equal(1, item.Quantity);
        Assert.Equal(4900, item.Amount);
        Assert.Null(order.RefundAmount);
        Assert.Equal("newsletter", e.Attribution!.UtmSource);
        Assert.Equal("email", e.Attribution.UtmMedium);
        Assert.Equal("bf26", e.Attribution.UtmCampaign);
        Assert.Equal("https://instagram.com/", e.Attribution.Referrer);
        Assert.Null(e.Subscription);
    }

    [Fact]
    public void Sale_SentAsJson_MapsTheSameAsTheFormPing()
    {
        const string json = """
            {"seller_id":"hUfP7mZ_8lrGqk7iYpBv4A==","product_id":"Yx3ZYcI1lbx_pLI8bw2kIw==","product_name":"Course Pro",
             "permalink":"course-pro","email":"Ada.Lovelace@Example.com","price":4900,"currency":"usd","quantity":1,
             "card":{"visual":"**** **** **** 4242","type":"visa"},"order_number":524459935,"sale_id":"5wJbZ1wddUJlIm5zYmb9Tw==",
             "sale_timestamp":"2026-11-20T07:00:05-08:00","full_name":"Ada Lovelace","purchaser_id":"4862313577133",
             "url_params":{"utm_source":"newsletter","purchase_token":"jt_gum_77"},"refunded":false,"resource_name":"sale",
             "disputed":false,"dispute_won":false,"test":true}
            """;
        var fromJson = PaymentsKit.Single(Map(json, "application/json"));
        var fromForm = PaymentsKit.Single(Map(Sale()));

        Assert.Equal(fromForm.Id, fromJson.Id);
        Assert.Equal(4900, fromJson.Order!.Amount);
        Assert.Equal("jt_gum_77", fromJson.Subject.PurchaseToken);
        Assert.Equal("newsletter", fromJson.Attribution!.UtmSource);
        Assert.True(fromJson.TestMode);
        Assert.Equal(Provider.DedupKey(PaymentsKit.Request(Sale())), Provider.DedupKey(PaymentsKit.Request(json)));
    }

    [Fact]
    public void SellerSelfPurchase_IsTestMode()
    {
        Assert.True(PaymentsKit.Single(Map(Sale(test: true))).TestMode);
    }

    [Fact]
    public void RecurringCharge_IsSubscriptionRenewed_WithTheSubscription()
    {
        var e = PaymentsKit.Single(Map(Sale(recurring: true)));

        Assert.Equal(EventTypes.SubscriptionRenewed, e.Type);
        Assert.Equal("sub_Zs0CSUqDZvD4A3j6Qv4wyQ==", e.Subscription!.SubscriptionId);
        Assert.Equal(SaleId, e.Order!.OrderId);
        Assert.Equal(4900, e.Order.Amount);
    }

    [Fact]
    public void PreorderAuthorization_IsOrderPending_NotPaid()
    {
        var e = PaymentsKit.Single(Map(Sale() + "&is_preorder_authorization=true"));

        Assert.Equal(EventTypes.OrderPending, e.Type);
    }

    [Fact]
    public void FullRefund_IsOrderRefunded_FullyRefundedAtThePrice_NamingTheSale()
    {
        var e = PaymentsKit.Single(Map(Sale("refund", refunded: true)));

        Assert.Equal(EventTypes.OrderRefunded, e.Type);
        Assert.Equal("refund", e.ProviderType);
        Assert.Equal(PaymentsKit.Received, e.OccurredAt);
        Assert.Equal("ada.lovelace@example.com", e.Subject.Email);
        var order = e.Order!;
        Assert.Equal(SaleId, order.OrderId);
        Assert.Null(order.RefundAmount); // not stated: partial refunds may have come first
        Assert.Equal(4900, order.RefundedTotal);
        Assert.True(order.FullyRefunded);
        Assert.Null(order.RefundId);
        Assert.Equal("USD", order.Currency);
        Assert.NotEqual(PaymentsKit.Single(Map(Sale())).Id, e.Id);
    }

    [Fact]
    public void TwoPartialRefundsOfOneSale_AreTwoRawEvents_AndTwoFacts()
    {
        var firstKey = Provider.DedupKey(PaymentsKit.Request(Sale("refund")));
        var secondKey = Provider.DedupKey(PaymentsKit.Request(Sale("refund")));
        Assert.NotEqual(firstKey, secondKey); // identical pings: a second partial refund is not dropped at intake

        var first = PaymentsKit.Single(Provider.Mapper.Map(PaymentsKit.Raw("gumroad", Sale("refund"), "application/x-www-form-urlencoded") with { DedupKey = firstKey! }));
        var second = PaymentsKit.Single(Provider.Mapper.Map(PaymentsKit.Raw("gumroad", Sale("refund"), "application/x-www-form-urlencoded") with { DedupKey = secondKey! }));
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(SaleId, second.Order!.OrderId);
    }

    [Fact]
    public void PartialRefund_IsOrderRefunded_NotFully_WithoutAnAmountGumroadDoesNotSend()
    {
        var e = PaymentsKit.Single(Map(Sale("refund", refunded: false)));

        Assert.Equal(EventTypes.OrderRefunded, e.Type);
        Assert.False(e.Order!.FullyRefunded);
        Assert.Null(e.Order.RefundAmount);
        Assert.Null(e.Order.RefundedTotal);
        Assert.NotEqual(PaymentsKit.Single(Map(Sale("refund", refunded: true))).Id, e.Id);
    }

    [Fact]
    public void Dispute_IsChargebackOpened_AndDisputeWon_IsChargebackClosedWon()
    {
        var opened = PaymentsKit.Single(Map(Sale("dispute", disputed: true)));
        var won = PaymentsKit.Single(Map(Sale("dispute_won", disputed: true, disputeWon: true)));

        Assert.Equal(EventTypes.ChargebackOpened, opened.Type);
        Assert.Equal(SaleId, opened.Chargeback!.DisputeId);
        Assert.Null(opened.Chargeback.Outcome);
        Assert.Equal(4900, opened.Chargeback.Amount);
        Assert.Equal("USD", opened.Chargeback.Currency);
        Assert.Equal(SaleId, opened.Order!.OrderId);
        Assert.Equal(EventTypes.ChargebackClosed, won.Type);
        Assert.Equal("won", won.Chargeback!.Outcome);
        Assert.Equal(SaleId, won.Chargeback.DisputeId);
    }

    private static string Cancellation(string resource, params (string, string)[] extra) => PaymentsKit.Form(
    [
        ("subscription_id", "sub_Zs0CSUqDZvD4A3j6Qv4wyQ=="),
        ("product_id", "Yx3ZYcI1lbx_pLI8bw2kIw=="),
        ("product_name", "Course Pro Membership"),
        ("user_id", "4862313577133"),
        ("user_email", "Ada.Lovelace@Example.com"),
        ("purchase_ids[]", SaleId),
        ("created_at", "2026-10-20T15:00:05Z"),
        ("charge_occurrence_count", ""),
        ("recurrence", "monthly"),
        ("free_trial_ends_at", ""),
        ("resource_name", resource),
        .. extra,
    ]);

    [Fact]
    public void Cancellation_IsSubscriptionCanceled_EndingAtCancelledAt()
    {
        var e = PaymentsKit.Single(Map(Cancellation("cancellation", ("cancelled", "true"), ("cancelled_at", "2026-12-20T15:00:05Z"), ("cancelled_by_buyer", "true"))));

        Assert.Equal(EventTypes.SubscriptionCanceled, e.Type);
        Assert.Equal("cancellation", e.ProviderType);
        Assert.Equal("ada.lovelace@example.com", e.Subject.Email);
        Assert.Equal("4862313577133", e.Subject.CustomerId);
        var sub = e.Subscription!;
        Assert.Equal("sub_Zs0CSUqDZvD4A3j6Qv4wyQ==", sub.SubscriptionId);
        Assert.Equal(new DateTimeOffset(2026, 12, 20, 15, 0, 5, TimeSpan.Zero), sub.EndsAt);
        Assert.Equal("cancelled_by_buyer", sub.Reason);
        Assert.Equal("Yx3ZYcI1lbx_pLI8bw2kIw==", Assert.Single(e.Order!.Items).ProductId);
    }

    [Fact]
    public void SubscriptionEnded_IsSubscriptionCanceled_AtEndedAt_ASecondFactAfterTheCancellation()
    {
        var ended = PaymentsKit.Single(Map(Cancellation("subscription_ended", ("ended_at", "2026-12-20T15:00:05Z"), ("ended_reason", "cancelled"))));
        var cancelled = PaymentsKit.Single(Map(Cancellation("cancellation", ("cancelled", "true"), ("cancelled_at", "2026-12-20T15:00:05Z"))));

        Assert.Equal(EventTypes.SubscriptionCanceled, ended.Type);
        Assert.Equal(new DateTimeOffset(2026, 12, 20, 15, 0, 5, TimeSpan.Zero), ended.OccurredAt);
        Assert.Equal("ended", ended.Subscription!.Status);
        Assert.Equal("cancelled", ended.Subscription.Reason);
        Assert.NotEqual(cancelled.Id, ended.Id);
    }

    [Theory]
    [InlineData("subscription_updated")]
    [InlineData("subscription_restarted")]
    public void SubscriptionUpdatesAndRestarts_AreIgnored(string resource)
    {
        Assert.IsType<MapResult.Ignored>(Map(Cancellation(resource, ("restarted_at", "2026-12-20T15:00:05Z"))));
    }

    [Fact]
    public void SaleWithoutSaleId_IsQuarantined_NamingTheField()
    {
        var q = Assert.IsType<MapResult.Quarantined>(Map(PaymentsKit.Form(("email", "a@example.com"), ("price", "100"), ("resource_name", "sale"))));

        Assert.StartsWith("sale_id:", q.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SaleWithANonNumericPrice_IsQuarantined()
    {
        var body = Sale().Replace("price=4900", "price=49.00", StringComparison.Ordinal);

        Assert.StartsWith("price:", Assert.IsType<MapResult.Quarantined>(Map(body)).Reason, StringComparison.Ordinal);
    }
}
