using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Normalize;

/// <summary>Stripe webhooks through the real intake to canonical events, field by field.</summary>
public sealed class StripeNormalizationTests : IAsyncLifetime
{
    private const string Secret = "whsec_stripe_normalization_test";
    private FakeApi? _stripe;
    private JunctionServer? _server;
    private int _lineItemsCalls;
    private Func<int, HttpResponse, IResult> _lineItems = (_, _) => Results.Text(StripeFixtures.LineItems(), "application/json");

    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync()
    {
        _stripe = await FakeApi.StartAsync(app =>
        {
            app.MapGet("/v1/checkout/sessions/{id}/line_items", (HttpRequest r, HttpResponse response) =>
                r.Headers.Authorization.ToString() != "Bearer sk_test_junction"
                    ? Results.Json(new { error = new { type = "invalid_request_error", message = "Invalid API Key provided" } }, statusCode: 401)
                    : _lineItems(Interlocked.Increment(ref _lineItemsCalls), response));
        });
        _server = await JunctionServer.StartAsync(Config(TestStorage.NewSqlite()));
    }

    private JunctionConfig Config(string storage) => new()
    {
        Storage = storage,
        Admin = new AdminConfig([JunctionServer.AdminToken]),
        Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
        {
            ["stripe"] = new()
            {
                Id = "stripe", Provider = "stripe", Secrets = [Secret],
                Options = new Dictionary<string, string> { ["api_key"] = "sk_test_junction", ["api_base_url"] = _stripe!.BaseUrl.ToString() },
            },
        },
        Path = "test.yaml",
    };

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_stripe is not null) await _stripe.DisposeAsync();
    }

    private async Task<string> Post(byte[] body)
    {
        using var response = await Server.PostStripeAsync(body, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(), Secret, "stripe");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static JsonElement Only(Normalized n)
    {
        Assert.Equal("mapped", n.Status);
        return Assert.Single(n.Events);
    }

    [Fact]
    public async Task CheckoutCompleted_BecomesOrderPaid_WithLineItemsFetchedDespite429And5xx()
    {
        var calls = 0;
        _lineItems = (_, response) =>
        {
            switch (Interlocked.Increment(ref calls))
            {
                case 1:
                    response.Headers.RetryAfter = "2";
                    return Results.Json(new { error = new { type = "rate_limit_error" } }, statusCode: 429);
                case 2:
                    return Results.Json(new { error = new { type = "api_error" } }, statusCode: 503);
                default:
                    return Results.Text(StripeFixtures.LineItems(), "application/json");
            }
        };
        var rawId = await Post(StripeFixtures.Event("evt_1PgRp3LkdIwHu7ixCheckout", "checkout.session.completed", StripeFixtures.CheckoutSession()));

        // While the provider throttles, the event is visible as pending, with its next attempt.
        var pending = await Server.NormalizedAsync(rawId, until: "pending");
        for (var i = 0; i < 100 && pending.Reason is null; i++)
        {
            await Task.Delay(20);
            pending = await Server.NormalizedAsync(rawId, until: "pending");
        }
        Assert.Contains("429", pending.Reason, StringComparison.Ordinal);
        var listed = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/quarantine?status=pending&source=stripe");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), i => i.GetProperty("raw_id").GetString() == rawId);

        var e = Only(await Server.NormalizedAsync(rawId));
        var attempts = _stripe!.Requests.Where(r => r.Request.Contains("/line_items", StringComparison.Ordinal)).Select(r => r.At).ToList();
        Assert.True(attempts[1] - attempts[0] >= TimeSpan.FromSeconds(1.9), $"Retry-After: 2 was not honoured ({attempts[1] - attempts[0]})");
        Assert.Equal("order.paid", e.GetProperty("type").GetString());
        Assert.Equal("checkout.session.completed", e.GetProperty("provider_type").GetString());
        Assert.Equal(rawId, e.GetProperty("raw_id").GetString());
        Assert.Equal("stripe", e.GetProperty("provider").GetString());
        Assert.Equal("2026-11-18T11:06:40Z", e.GetProperty("occurred_at").GetString());
        Assert.True(e.GetProperty("test_mode").GetBoolean());
        var subject = e.GetProperty("subject");
        Assert.Equal("ada.lovelace+course@example.com", subject.GetProperty("email").GetString());
        Assert.Equal("  Ada.Lovelace+course@Example.com ", subject.GetProperty("email_raw").GetString());
        Assert.Equal("cus_QxY12abc", subject.GetProperty("customer_id").GetString());
        Assert.Equal("jt_8f3a2c", subject.GetProperty("purchase_token").GetString());
        Assert.Equal("+12125550100", subject.GetProperty("phone").GetString());
        var order = e.GetProperty("order");
        Assert.Equal("pi_3PgRp2LkdIwHu7ix0pQ1rStU", order.GetProperty("order_id").GetString());
        Assert.Equal(4900, order.GetProperty("amount").GetInt64());
        Assert.Equal("USD", order.GetProperty("currency").GetString());
        Assert.Contains("cs_test_a1b2c3", order.GetProperty("related_ids").EnumerateArray().Select(x => x.GetString()));
        var item = Assert.Single(order.GetProperty("items").EnumerateArray());
        Assert.Equal("course-pro", item.GetProperty("sku").GetString());
        Assert.Equal("prod_QXcoursepro", item.GetProperty("product_id").GetString());
        Assert.Equal("price_1PgRoVLkdIwHu7ixCoursePro", item.GetProperty("price_id").GetString());
        Assert.Equal(1, item.GetProperty("quantity").GetInt32());
        Assert.Equal(4900, item.GetProperty("amount").GetInt64());
        var attribution = e.GetProperty("attribution");
        Assert.Equal("ig", attribution.GetProperty("utm_source").GetString());
        Assert.Equal("launch", attribution.GetProperty("utm_campaign").GetString());
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task PartialThenFullRefund_CarryThisRefundsAmount_TheCumulativeTotal_AndThePurchaseOrderId()
    {
        var partial = await Post(StripeFixtures.Event("evt_refund_partial", "charge.refunded",
            StripeFixtures.Charge(1000, refunded: false, "re_partial", 1000), previous: """{"amount_refunded":0,"refunds":{}}"""));
        var full = await Post(StripeFixtures.Event("evt_refund_full", "charge.refunded",
            StripeFixtures.Charge(4900, refunded: true, "re_rest", 3900), previous: """{"amount_refunded":1000}"""));

        var p = Only(await Server.NormalizedAsync(partial)).GetProperty("order");
        Assert.Equal("pi_3PgRp2LkdIwHu7ix0pQ1rStU", p.GetProperty("order_id").GetString());
        Assert.Equal(1000, p.GetProperty("refund_amount").GetInt64());
        Assert.Equal(1000, p.GetProperty("refunded_total").GetInt64());
        Assert.False(p.GetProperty("fully_refunded").GetBoolean());
        Assert.Equal("re_partial", p.GetProperty("refund_id").GetString());

        var f = Only(await Server.NormalizedAsync(full));
        Assert.Equal("order.refunded", f.GetProperty("type").GetString());
        Assert.Equal(3900, f.GetProperty("order").GetProperty("refund_amount").GetInt64());
        Assert.Equal(4900, f.GetProperty("order").GetProperty("refunded_total").GetInt64());
        Assert.True(f.GetProperty("order").GetProperty("fully_refunded").GetBoolean());
        Assert.Equal("ada.lovelace+course@example.com", f.GetProperty("subject").GetProperty("email").GetString());
    }

    [Fact]
    public async Task DisputeOpenedAndLost_AreChargebacksOnThePurchase()
    {
        var opened = Only(await Server.NormalizedAsync(await Post(StripeFixtures.Event("evt_dp_created", "charge.dispute.created", StripeFixtures.Dispute("needs_response")))));
        var closed = Only(await Server.NormalizedAsync(await Post(StripeFixtures.Event("evt_dp_closed", "charge.dispute.closed", StripeFixtures.Dispute("lost")))));

        Assert.Equal("chargeback.opened", opened.GetProperty("type").GetString());
        Assert.Equal("pi_3PgRp2LkdIwHu7ix0pQ1rStU", opened.GetProperty("order").GetProperty("order_id").GetString());
        Assert.Equal("fraudulent", opened.GetProperty("chargeback").GetProperty("reason").GetString());
        Assert.Equal("chargeback.closed", closed.GetProperty("type").GetString());
        Assert.Equal("lost", closed.GetProperty("chargeback").GetProperty("outcome").GetString());
        Assert.Equal("dp_1PgS0aLkdIwHu7ix", closed.GetProperty("chargeback").GetProperty("dispute_id").GetString());
    }

    [Fact]
    public async Task SubscriptionDeleted_IsSubscriptionCanceled()
    {
        var e = Only(await Server.NormalizedAsync(await Post(StripeFixtures.Event("evt_sub_del", "customer.subscription.deleted", StripeFixtures.Subscription()))));
        Assert.Equal("subscription.canceled", e.GetProperty("type").GetString());
        var sub = e.GetProperty("subscription");
        Assert.Equal("sub_1PgS3bLkdIwHu7ix", sub.GetProperty("subscription_id").GetString());
        Assert.Equal("cancellation_requested", sub.GetProperty("reason").GetString());
        Assert.Equal("2026-11-20T18:40:00Z", sub.GetProperty("canceled_at").GetString());
        Assert.Equal("cus_QxY12abc", e.GetProperty("subject").GetProperty("customer_id").GetString());
        Assert.Equal("membership-monthly", e.GetProperty("order").GetProperty("items")[0].GetProperty("sku").GetString());
    }

    [Fact]
    public async Task AsyncPayment_IsPendingFirst_ThenPaidWhenItSucceeds()
    {
        var pending = Only(await Server.NormalizedAsync(await Post(StripeFixtures.Event("evt_async_1", "checkout.session.completed",
            StripeFixtures.CheckoutSession("cs_test_async", paymentStatus: "unpaid", paymentIntent: "pi_async")))));
        var paid = Only(await Server.NormalizedAsync(await Post(StripeFixtures.Event("evt_async_2", "checkout.session.async_payment_succeeded",
            StripeFixtures.CheckoutSession("cs_test_async", paymentStatus: "paid", paymentIntent: "pi_async")))));

        Assert.Equal("order.pending", pending.GetProperty("type").GetString());
        Assert.Equal("order.paid", paid.GetProperty("type").GetString());
        Assert.Equal("pi_async", paid.GetProperty("order").GetProperty("order_id").GetString());
    }

    [Fact]
    public async Task ExpiredCheckout_IsCheckoutAbandoned_AndUnusedTypesAreIgnoredNotQuarantined()
    {
        var abandoned = Only(await Server.NormalizedAsync(await Post(StripeFixtures.Event("evt_expired", "checkout.session.expired",
            StripeFixtures.CheckoutSession("cs_test_exp", paymentStatus: "unpaid", status: "expired")))));
        Assert.Equal("checkout.abandoned", abandoned.GetProperty("type").GetString());
        Assert.Equal("ada.lovelace+course@example.com", abandoned.GetProperty("subject").GetProperty("email").GetString());

        var ignored = await Server.NormalizedAsync(await Post(StripeFixtures.Event("evt_product", "product.created", """{"id":"prod_1","object":"product"}""")));
        Assert.Equal("ignored", ignored.Status);
        Assert.Contains("product.created", ignored.Reason, StringComparison.Ordinal);
        Assert.Empty(ignored.Events);
    }

    [Fact]
    public async Task MalformedEvent_IsQuarantinedWithTheFieldNamed()
    {
        var rawId = await Post("""{"id":"evt_broken","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_1"}}}"""u8.ToArray());
        var n = await Server.NormalizedAsync(rawId);
        Assert.Equal("quarantined", n.Status);
        Assert.Equal("created: required, expected Unix seconds", n.Reason);

        var list = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/quarantine?source=stripe");
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(rawId, item.GetProperty("raw_id").GetString());
        Assert.Equal("charge.refunded", item.GetProperty("provider_type").GetString());
    }

    [Fact]
    public async Task QuarantinedForABadKey_RetryAfterTheFix_ProducesTheEventExactlyOnce()
    {
        _lineItems = (_, _) => Results.Json(new { error = new { type = "invalid_request_error", message = "No such checkout session" } }, statusCode: 404);
        var rawId = await Post(StripeFixtures.Event("evt_retry_fix", "checkout.session.completed", StripeFixtures.CheckoutSession("cs_test_fix")));
        var first = await Server.NormalizedAsync(rawId);
        Assert.Equal("quarantined", first.Status);
        Assert.Contains("404", first.Reason, StringComparison.Ordinal);

        _lineItems = (_, _) => Results.Text(StripeFixtures.LineItems("cs_test_fix"), "application/json");
        using var retry = await Server.Admin.PostAsync($"/v1/quarantine/{rawId}/retry", null);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        var after = await Server.NormalizedAsync(rawId);
        Assert.Equal("order.paid", Only(after).GetProperty("type").GetString());

        using var again = await Server.Admin.PostAsync($"/v1/quarantine/{rawId}/retry", null);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        var all = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/events?source=stripe&type=order.paid");
        Assert.Single(all.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Drift_ReportsAddedAndRemovedFieldsPerEventType()
    {
        await Server.NormalizedAsync(await Post(StripeFixtures.Event("evt_drift_1", "customer.subscription.deleted", StripeFixtures.Subscription())));
        var renamed = StripeFixtures.Subscription().Replace("\"cancellation_details\"", "\"cancel_details\"", StringComparison.Ordinal);
        var second = await Post(StripeFixtures.Event("evt_drift_2", "customer.subscription.deleted", renamed));
        await Server.NormalizedAsync(second);

        var report = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/drift?source=stripe");
        var type = Assert.Single(report.GetProperty("items").EnumerateArray(), i => i.GetProperty("provider_type").GetString() == "customer.subscription.deleted");
        Assert.Equal(2, type.GetProperty("events_seen").GetInt64());
        var changes = type.GetProperty("changes").EnumerateArray()
            .Select(c => (c.GetProperty("change").GetString(), c.GetProperty("path").GetString(), c.GetProperty("sample_raw_id").GetString())).ToList();
        Assert.Contains(("added", "data.object.cancel_details", second), changes);
        Assert.Contains(("removed", "data.object.cancellation_details", second), changes);
        Assert.Contains(("removed", "data.object.cancellation_details.reason", second), changes);
        Assert.Contains(type.GetProperty("paths").EnumerateArray(), p => p.GetProperty("path").GetString() == "data.object.items.data[].price.id");
    }
}
