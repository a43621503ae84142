using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.Paddle;

namespace Junction.Tests.Providers.Payments;

/// <summary>Paddle Billing notifications shaped like developer.paddle.com's transaction.completed and adjustment.* samples.</summary>
public sealed class PaddleTests
{
    private const string Secret = "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI";
    private const string NewSecret = "pdl_ntfset_01hv8x2a8fk7n2rv3yj8m0p3qz_q9F2xWkT0mJc8dLwYp1sRaV5nZu3eHgB";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);
    private static readonly PaddleProvider Provider = new();

    public static string Transaction(string eventType = "transaction.completed", string origin = "web", string eventId = "evt_01hv8x2acma2gz7he0bbkw1ysn",
        string customData = """{"purchase_token": "jt_pad_9", "utm_source": "twitter", "utm_medium": "social"}""") => $$$"""
        {
          "event_id": "{{{eventId}}}",
          "event_type": "{{{eventType}}}",
          "occurred_at": "2026-11-20T15:00:49.621022Z",
          "notification_id": "ntf_01hv8x2af5sx3ymyjqxn5qmfmv",
          "data": {
            "id": "txn_01hv8wptq8987qeep44cyrewp9",
            "items": [
              {
                "price": {
                  "id": "pri_01gsz8x8sawmvhz1pv30nge1ke", "name": "Monthly (per seat)", "type": "standard", "status": "active",
                  "quantity": {"maximum": 999, "minimum": 1}, "tax_mode": "account_setting", "created_at": "2023-02-23T13:55:22.538367Z",
                  "product_id": "pro_01gsz4t5hdjse780zja8vvr7jg", "unit_price": {"amount": "3000", "currency_code": "USD"},
                  "updated_at": "2024-04-11T13:54:52.254748Z", "custom_data": null, "description": "Monthly", "trial_period": null,
                  "billing_cycle": {"interval": "month", "frequency": 1}, "unit_price_overrides": [], "import_meta": null
                },
                "quantity": 10,
                "proration": null
              }
            ],
            "origin": "{{{origin}}}",
            "status": "completed",
            "details": {
              "totals": {"fee": "3311", "tax": "5927", "total": "65927", "credit": "0", "balance": "0", "discount": "0", "earnings": "56616",
                         "subtotal": "60000", "grand_total": "65927", "currency_code": "USD", "credit_to_balance": "0"},
              "line_items": [
                {
                  "id": "txnitm_01hv8wt98jahpbm1t1tzr06z6n", "totals": {"tax": "5927", "total": "65927", "discount": "0", "subtotal": "60000"},
                  "item_id": null,
                  "product": {"id": "pro_01gsz4t5hdjse780zja8vvr7jg", "name": "AeroEdit Pro", "type": "standard", "status": "active", "tax_category": "standard"},
                  "price_id": "pri_01gsz8x8sawmvhz1pv30nge1ke", "quantity": 10, "tax_rate": "0.08", "unit_totals": {"tax": "593", "total": "6593", "discount": "0", "subtotal": "6000"}
                }
              ],
              "payout_totals": {"fee": "3311", "tax": "5927", "total": "65927", "credit": "0", "balance": "0", "discount": "0", "earnings": "56616",
                                "fee_rate": "0.05", "subtotal": "60000", "grand_total": "65927", "currency_code": "USD", "exchange_rate": "1", "credit_to_balance": "0"},
              "tax_rates_used": [{"totals": {"tax": "5927", "total": "65927", "discount": "0", "subtotal": "60000"}, "tax_rate": "0.08"}],
              "adjusted_totals": {"fee": "3311", "tax": "5927", "total": "65927", "earnings": "56616", "subtotal": "60000", "grand_total": "65927", "currency_code": "USD"}
            },
            "checkout": {"url": "https://aeroedit.com/pay?_ptxn=txn_01hv8wptq8987qeep44cyrewp9"},
            "payments": [
              {"amount": "65927", "status": "captured", "created_at": "2026-11-20T15:00:46.235082Z", "error_code": null, "captured_at": "2026-11-20T15:00:47.635628Z",
               "method_details": {"card": {"type": "visa", "last4": "3184", "expiry_year": 2028, "expiry_month": 1, "cardholder_name": "Michael McGovern"}, "type": "card"},
               "payment_method_id": "paymtd_01hv8x1tpjfnttxddw73xnqx6s", "payment_attempt_id": "cd0d19ef-1b96-4ae7-9d7a-7b3b1d8e0e26", "stored_payment_method_id": "ebd1b4ae-0e3a-4e2f-8b2f-3bfa1e1c5d7a"}
            ],
            "billed_at": "2026-11-20T15:00:48.294633Z",
            "address_id": "add_01hv8gq3318ktkfengj2r75gfx",
            "created_at": "2026-11-20T14:55:33.2014Z",
            "invoice_id": "inv_01hv8x29nsh54c2pgt0hnq0zkx",
            "updated_at": "2026-11-20T15:00:49.621022Z",
            "business_id": null,
            "custom_data": {{{customData}}},
            "customer_id": "ctm_01hv6y1jedq4p1n0yqn5ba3ky4",
            "discount_id": null,
            "receipt_data": null,
            "currency_code": "USD",
            "billing_period": {"ends_at": "2026-12-20T15:00:48.294633Z", "starts_at": "2026-11-20T15:00:48.294633Z"},
            "invoice_number": "325-10566",
            "billing_details": null,
            "collection_mode": "automatic",
            "subscription_id": "sub_01hv8x29kz0t586xy6zn1a62ny"
          }
        }
        """;

    public static string Adjustment(string action = "refund", string status = "approved", string type = "partial", string eventType = "adjustment.updated",
        string id = "adj_01h8c65c2ggq5nxswnnwv78e75", string total = "1500") => $$$"""
        {
          "event_id": "evt_01h8f1bs3ak5gykzx1zdvfb81s",
          "event_type": "{{{eventType}}}",
          "occurred_at": "2026-11-21T11:08:06.000000Z",
          "notification_id": "ntf_01h8f1bs5rks7kzr2r3pmwsbgm",
          "data": {
            "id": "{{{id}}}",
            "type": "{{{type}}}",
            "items": [
              {"id": "adjitm_01h8c65c2ggq5nxswnnwv78e76", "type": "partial", "amount": "{{{total}}}", "totals": {"tax": "136", "total": "{{{total}}}", "subtotal": "1364"},
               "item_id": "txnitm_01h8bxryv3065dyh6103p3yg28", "proration": null}
            ],
            "action": "{{{action}}}",
            "reason": "error",
            "status": "{{{status}}}",
            "totals": {"fee": "80", "tax": "136", "total": "{{{total}}}", "earnings": "1284", "subtotal": "1364", "currency_code": "USD"},
            "created_at": "2026-11-21T11:08:06.004421Z",
            "updated_at": "2026-11-21T11:08:06.004421Z",
            "customer_id": "ctm_01hv6y1jedq4p1n0yqn5ba3ky4",
            "currency_code": "USD",
            "payout_totals": {"fee": "80", "tax": "136", "total": "{{{total}}}", "earnings": "1284", "subtotal": "1364", "currency_code": "USD"},
            "transaction_id": "txn_01hv8wptq8987qeep44cyrewp9",
            "subscription_id": "sub_01hv8x29kz0t586xy6zn1a62ny",
            "credit_applied_to_balance": null
          }
        }
        """;

    public const string SubscriptionCanceled = """
        {
          "event_id": "evt_01hv915j7vtxz0zy6rpb7hr8qf",
          "event_type": "subscription.canceled",
          "occurred_at": "2026-12-20T15:00:01.102372Z",
          "notification_id": "ntf_01hv915jaybffbwavz2gf71r48",
          "data": {
            "id": "sub_01hv8x29kz0t586xy6zn1a62ny",
            "items": [
              {"price": {"id": "pri_01gsz8x8sawmvhz1pv30nge1ke", "name": "Monthly (per seat)", "product_id": "pro_01gsz4t5hdjse780zja8vvr7jg", "description": "Monthly"},
               "status": "active", "quantity": 10, "recurring": true, "created_at": "2026-11-20T15:00:48.842Z", "updated_at": "2026-12-20T15:00:01.102Z",
               "trial_dates": null, "next_billed_at": null, "previously_billed_at": "2026-11-20T15:00:48.294633Z",
               "product": {"id": "pro_01gsz4t5hdjse780zja8vvr7jg", "name": "AeroEdit Pro"}}
            ],
            "status": "canceled",
            "discount": null,
            "paused_at": null,
            "address_id": "add_01hv8gq3318ktkfengj2r75gfx",
            "created_at": "2026-11-20T15:00:48.842Z",
            "started_at": "2026-11-20T15:00:48.294633Z",
            "updated_at": "2026-12-20T15:00:01.102Z",
            "business_id": null,
            "canceled_at": "2026-12-20T15:00:00.988Z",
            "custom_data": null,
            "customer_id": "ctm_01hv6y1jedq4p1n0yqn5ba3ky4",
            "billing_cycle": {"interval": "month", "frequency": 1},
            "currency_code": "USD",
            "next_billed_at": null,
            "billing_details": null,
            "collection_mode": "automatic",
            "first_billed_at": "2026-11-20T15:00:48.294633Z",
            "scheduled_change": null,
            "current_billing_period": null
          }
        }
        """;

    public const string Customer = """
        {"data": {"id": "ctm_01hv6y1jedq4p1n0yqn5ba3ky4", "name": "Sam Miller", "email": "Sam.Miller@Example.com", "marketing_consent": false,
                  "status": "active", "custom_data": null, "locale": "en", "created_at": "2026-11-19T15:00:00.000Z", "updated_at": "2026-11-19T15:00:00.000Z",
                  "import_meta": null},
         "meta": {"request_id": "4a0d4ba2-3e1b-4b4e-8d32-6e8a6a3b1f1a"}}
        """;

    private static MapResult Map(string body, bool canEnrich = false, bool enriched = false) =>
        Provider.Mapper.Map(PaymentsKit.Raw("paddle", body, canEnrich: canEnrich,
            enrichment: enriched ? new Dictionary<string, string> { [PaddleMapper.CustomerKey] = Customer } : null));

    private static SignatureCheck Verify(string body, string? header, string[] secrets, DateTimeOffset? now = null) =>
        Provider.Verify(header is null ? PaymentsKit.Request(body) : PaymentsKit.Request(body, null, ("Paddle-Signature", header)),
            secrets, TimeSpan.FromSeconds(300), now ?? Now);

    [Fact]
    public void Verify_AcceptsH1OverTimestampColonBody()
    {
        var body = Transaction();

        Assert.True(Verify(body, PaymentsKit.Paddle(Now.ToUnixTimeSeconds(), body, Secret), [Secret]).IsValid);
    }

    [Fact]
    public void Verify_AcceptsRotation_SeveralH1AndSeveralSecrets()
    {
        var body = Transaction();
        var ts = Now.ToUnixTimeSeconds();

        Assert.True(Verify(body, PaymentsKit.Paddle(ts, body, Secret, NewSecret), [NewSecret]).IsValid);
        Assert.True(Verify(body, PaymentsKit.Paddle(ts, body, NewSecret), [Secret, NewSecret]).IsValid);
        Assert.Equal(SignatureFailure.BadSignature, Verify(body, PaymentsKit.Paddle(ts, body, NewSecret), [Secret]).Failure);
    }

    [Fact]
    public void Verify_RefusesTamperedBody_AndSignatureForAnotherTimestamp()
    {
        var body = Transaction();
        var ts = Now.ToUnixTimeSeconds();
        var header = PaymentsKit.Paddle(ts, body, Secret);

        Assert.Equal(SignatureFailure.BadSignature, Verify(body.Replace("65927", "1", StringComparison.Ordinal), header, [Secret]).Failure);
        var movedTimestamp = header.Replace($"ts={ts}", $"ts={ts + 1}", StringComparison.Ordinal);
        Assert.Equal(SignatureFailure.BadSignature, Verify(body, movedTimestamp, [Secret]).Failure);
    }

    [Fact]
    public void Verify_RefusesStaleTimestamp_EvenWithAValidSignature()
    {
        var body = Transaction();
        var ts = Now.AddMinutes(-6).ToUnixTimeSeconds();

        var check = Verify(body, PaymentsKit.Paddle(ts, body, Secret), [Secret]);

        Assert.Equal(SignatureFailure.StaleTimestamp, check.Failure);
    }

    [Fact]
    public void Verify_RefusesMissingAndMalformedHeaders()
    {
        var body = Transaction();

        Assert.Equal(SignatureFailure.MissingSignature, Verify(body, null, [Secret]).Failure);
        Assert.Equal(SignatureFailure.MalformedSignature, Verify(body, "h1=abc", [Secret]).Failure);
        Assert.Equal(SignatureFailure.MalformedSignature, Verify(body, $"ts={Now.ToUnixTimeSeconds()}", [Secret]).Failure);
    }

    [Fact]
    public void DedupKey_IsTheEventId()
    {
        Assert.Equal("evt_01hv8x2acma2gz7he0bbkw1ysn", Provider.DedupKey(PaymentsKit.Request(Transaction())));
    }

    [Fact]
    public void TransactionCompleted_WithAnApiKey_AsksForTheCustomer()
    {
        var need = Assert.IsType<MapResult.NeedsEnrichment>(Map(Transaction(), canEnrich: true));

        var request = Assert.Single(need.Requests);
        Assert.Equal(PaddleMapper.CustomerKey, request.Key);
        Assert.Equal("/customers/ctm_01hv6y1jedq4p1n0yqn5ba3ky4", request.PathAndQuery);
    }

    [Theory]
    [InlineData("https://sandbox-api.paddle.com", true)]
    [InlineData("https://api.paddle.com", false)]
    [InlineData(null, false)]
    public void TestMode_FollowsTheSourcesApiBaseUrl_ForEveryEventType(string? apiBaseUrl, bool test)
    {
        foreach (var body in new[] { Transaction(), Adjustment(), Adjustment(action: "chargeback") })
        {
            var raw = PaymentsKit.Raw("paddle", body) with { ApiBaseUrl = apiBaseUrl };
            Assert.Equal(test, PaymentsKit.Single(Provider.Mapper.Map(raw)).TestMode);
        }
    }

    [Fact]
    public void TransactionCompleted_IsOrderPaid_FieldByField_WithTheFetchedEmail()
    {
        var e = PaymentsKit.Single(Map(Transaction(), canEnrich: true, enriched: true));

        Assert.Equal(EventTypes.OrderPaid, e.Type);
        Assert.Equal("transaction.completed", e.ProviderType);
        Assert.Equal(DateTimeOffset.Parse("2026-11-20T15:00:49.621022Z", System.Globalization.CultureInfo.InvariantCulture), e.OccurredAt);
        Assert.False(e.TestMode);
        Assert.Equal("sam.miller@example.com", e.Subject.Email);
        Assert.Equal("Sam Miller", e.Subject.Name);
        Assert.Equal("ctm_01hv6y1jedq4p1n0yqn5ba3ky4", e.Subject.CustomerId);
        Assert.Equal("jt_pad_9", e.Subject.PurchaseToken);
        var order = e.Order!;
        Assert.Equal("txn_01hv8wptq8987qeep44cyrewp9", order.OrderId);
        Assert.Equal(65927, order.Amount);
        Assert.Equal("USD", order.Currency);
        Assert.Equal(["inv_01hv8x29nsh54c2pgt0hnq0zkx", "325-10566", "sub_01hv8x29kz0t586xy6zn1a62ny"], order.RelatedIds);
        var item = Assert.Single(order.Items);
        Assert.Equal("pri_01gsz8x8sawmvhz1pv30nge1ke", item.PriceId);
        Assert.Equal("pro_01gsz4t5hdjse780zja8vvr7jg", item.ProductId);
        Assert.Equal("AeroEdit Pro", item.Name);
        Assert.Equal(10, item.Quantity);
        Assert.Equal(65927, item.Amount);
        Assert.Equal("twitter", e.Attribution!.UtmSource);
        Assert.Equal("social", e.Attribution.UtmMedium);
        Assert.Equal("sub_01hv8x29kz0t586xy6zn1a62ny", e.Subscription!.SubscriptionId);
    }

    [Fact]
    public void TransactionCompleted_WithoutAnApiKey_IsMappedWithTheCustomerIdOnly()
    {
        var e = PaymentsKit.Single(Map(Transaction(customData: "null")));

        Assert.Null(e.Subject.Email);
        Assert.Equal("ctm_01hv6y1jedq4p1n0yqn5ba3ky4", e.Subject.CustomerId);
        Assert.Null(e.Attribution);
    }

    [Fact]
    public void TransactionPaidAndCompleted_AreOneFact()
    {
        var paid = PaymentsKit.Single(Map(Transaction("transaction.paid", eventId: "evt_01hv8x29z5x7s6g1tv6n4bz5xk")));
        var completed = PaymentsKit.Single(Map(Transaction()));

        Assert.Equal(completed.Id, paid.Id);
    }

    [Fact]
    public void RecurringTransaction_IsSubscriptionRenewed()
    {
        var e = PaymentsKit.Single(Map(Transaction(origin: "subscription_recurring")));

        Assert.Equal(EventTypes.SubscriptionRenewed, e.Type);
        Assert.Equal("sub_01hv8x29kz0t586xy6zn1a62ny", e.Subscription!.SubscriptionId);
        Assert.Equal("txn_01hv8wptq8987qeep44cyrewp9", e.Order!.OrderId);
    }

    [Fact]
    public void PaymentMethodChangeTransaction_IsIgnored()
    {
        Assert.IsType<MapResult.Ignored>(Map(Transaction(origin: "subscription_payment_method_change")));
    }

    [Fact]
    public void PaymentFailed_IsPaymentFailed()
    {
        var e = PaymentsKit.Single(Map(Transaction("transaction.payment_failed", eventId: "evt_01hv8y0000000000000000fail")));

        Assert.Equal(EventTypes.PaymentFailed, e.Type);
        Assert.Equal("txn_01hv8wptq8987qeep44cyrewp9", e.Order!.OrderId);
        Assert.Equal("past_due", e.Subscription!.Status);
    }

    [Fact]
    public void PendingRefund_IsIgnored_UntilPaddleApprovesIt()
    {
        var ignored = Assert.IsType<MapResult.Ignored>(Map(Adjustment(status: "pending_approval", eventType: "adjustment.created")));

        Assert.Contains("pending_approval", ignored.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ApprovedPartialRefund_IsOrderRefunded_NamingTheTransaction()
    {
        var e = PaymentsKit.Single(Map(Adjustment()));

        Assert.Equal(EventTypes.OrderRefunded, e.Type);
        Assert.Equal("adjustment.updated", e.ProviderType);
        var order = e.Order!;
        Assert.Equal("txn_01hv8wptq8987qeep44cyrewp9", order.OrderId);
        Assert.Equal("adj_01h8c65c2ggq5nxswnnwv78e75", order.RefundId);
        Assert.Equal(1500, order.RefundAmount);
        Assert.Equal("USD", order.Currency);
        Assert.False(order.FullyRefunded);
        Assert.Equal("ctm_01hv6y1jedq4p1n0yqn5ba3ky4", e.Subject.CustomerId);
    }

    [Fact]
    public void ApprovedFullRefund_IsFullyRefunded_AndCreatedThenUpdatedIsOneFact()
    {
        var created = PaymentsKit.Single(Map(Adjustment(type: "full", total: "65927", eventType: "adjustment.created")));
        var updated = PaymentsKit.Single(Map(Adjustment(type: "full", total: "65927")));

        Assert.True(created.Order!.FullyRefunded);
        Assert.Equal(65927, created.Order.RefundAmount);
        Assert.Equal(created.Id, updated.Id);
    }

    [Fact]
    public void Chargeback_IsChargebackOpened_AndItsReverse_ClosesItWon()
    {
        var opened = PaymentsKit.Single(Map(Adjustment("chargeback", eventType: "adjustment.created", id: "adj_01hvcb0000000000000000000a", total: "65927")));
        var reversed = PaymentsKit.Single(Map(Adjustment("chargeback_reverse", eventType: "adjustment.created", id: "adj_01hvcb0000000000000000000b", total: "65927")));

        Assert.Equal(EventTypes.ChargebackOpened, opened.Type);
        Assert.Equal("txn_01hv8wptq8987qeep44cyrewp9", opened.Chargeback!.DisputeId);
        Assert.Equal(65927, opened.Chargeback.Amount);
        Assert.Null(opened.Chargeback.Outcome);
        Assert.Equal("txn_01hv8wptq8987qeep44cyrewp9", opened.Order!.OrderId);
        Assert.Equal(EventTypes.ChargebackClosed, reversed.Type);
        Assert.Equal("won", reversed.Chargeback!.Outcome);
        Assert.Equal(opened.Chargeback.DisputeId, reversed.Chargeback.DisputeId);
    }

    [Fact]
    public void Credit_IsIgnored()
    {
        Assert.IsType<MapResult.Ignored>(Map(Adjustment("credit")));
    }

    [Fact]
    public void SubscriptionCanceled_IsSubscriptionCanceled()
    {
        var e = PaymentsKit.Single(Map(SubscriptionCanceled));

        Assert.Equal(EventTypes.SubscriptionCanceled, e.Type);
        Assert.Equal("sub_01hv8x29kz0t586xy6zn1a62ny", e.Subscription!.SubscriptionId);
        Assert.Equal("canceled", e.Subscription.Status);
        Assert.Equal(DateTimeOffset.Parse("2026-12-20T15:00:00.988Z", System.Globalization.CultureInfo.InvariantCulture), e.Subscription.CanceledAt);
        Assert.Equal("ctm_01hv6y1jedq4p1n0yqn5ba3ky4", e.Subject.CustomerId);
        var item = Assert.Single(e.Order!.Items);
        Assert.Equal("pro_01gsz4t5hdjse780zja8vvr7jg", item.ProductId);
        Assert.Equal("AeroEdit Pro", item.Name);
    }

    [Fact]
    public void NonNumericTotal_IsQuarantined_NamingTheField()
    {
        var body = Transaction().Replace("\"grand_total\": \"65927\"", "\"grand_total\": \"659.27\"", StringComparison.Ordinal);

        var q = Assert.IsType<MapResult.Quarantined>(Map(body));

        Assert.StartsWith("data.details.totals.grand_total:", q.Reason, StringComparison.Ordinal);
    }
}
