using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Providers.Payments;

/// <summary>Gumroad, Lemon Squeezy, Paddle and WooCommerce webhooks through the real HTTP intake to canonical events.</summary>
public sealed class PaymentsEndToEndTests : IAsyncLifetime
{
    private const string GumroadToken = "gr_tok_e2e_4c1d9a7f3b2e";
    private const string LemonSecret = "ls_e2e_signing_secret";
    private const string PaddleSecret = "pdl_ntfset_01e2e000000000000000000000_e2eSecretValue";
    private const string PaddleApiKey = "pdl_live_apikey_01e2e_junction";
    private const string WooSecret = "wc_e2e_secret";

    private FakeApi? _paddle;
    private JunctionServer? _server;
    private int _customerCalls;

    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync()
    {
        _paddle = await FakeApi.StartAsync(app => app.MapGet("/customers/{id}", (string id, HttpRequest request, HttpResponse response) =>
        {
            if (request.Headers.Authorization.ToString() != "Bearer " + PaddleApiKey)
            {
                return Results.Json(new { error = new { type = "request_error", code = "authentication_malformed" } }, statusCode: 403);
            }
            // Paddle's documented rate limit answer: 429 with Retry-After (developer.paddle.com/api-reference/about/rate-limiting).
            if (Interlocked.Increment(ref _customerCalls) == 1)
            {
                response.Headers.RetryAfter = "1";
                return Results.Json(new { error = new { type = "request_error", code = "too_many_requests" } }, statusCode: 429);
            }
            return id == "ctm_01hv6y1jedq4p1n0yqn5ba3ky4"
                ? Results.Text(PaddleTests.Customer, "application/json")
                : Results.Json(new { error = new { type = "request_error", code = "not_found" } }, statusCode: 404);
        }));
        _server = await JunctionServer.StartAsync(new JunctionConfig
        {
            Storage = TestStorage.NewSqlite(),
            Admin = new AdminConfig([JunctionServer.AdminToken]),
            Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
            {
                ["gum"] = new() { Id = "gum", Provider = "gumroad", Secrets = [GumroadToken] },
                ["lemon"] = new() { Id = "lemon", Provider = "lemonsqueezy", Secrets = [LemonSecret] },
                ["paddle"] = new() { Id = "paddle", Provider = "paddle", Secrets = [PaddleSecret] },
                ["paddle-api"] = new()
                {
                    Id = "paddle-api",
                    Provider = "paddle",
                    Secrets = [PaddleSecret],
                    Options = new Dictionary<string, string> { ["api_key"] = PaddleApiKey, ["api_base_url"] = _paddle.BaseUrl.ToString() },
                },
                ["woo"] = new() { Id = "woo", Provider = "woocommerce", Secrets = [WooSecret] },
            },
            Path = "test.yaml",
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_paddle is not null) await _paddle.DisposeAsync();
    }

    private static async Task<(string Id, bool Duplicate)> Accepted(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (json.GetProperty("id").GetString()!, json.GetProperty("duplicate").GetBoolean());
        }
    }

    private static JsonElement Only(Normalized n, string type)
    {
        Assert.True(n.Status == "mapped", $"{n.Status}: {n.Reason}");
        return Assert.Single(n.Events, e => e.GetProperty("type").GetString() == type);
    }

    private static string? Str(JsonElement e, string path)
    {
        foreach (var part in path.Split('.')) e = e.GetProperty(part);
        return e.ValueKind == JsonValueKind.Null ? null : e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText();
    }

    private Task<HttpResponseMessage> PostGumroad(string body, string? token = GumroadToken) =>
        Server.PostAsync("gum", Encoding.UTF8.GetBytes(body), "application/x-www-form-urlencoded", query: token is null ? null : "token=" + token);

    [Fact]
    public async Task Gumroad_SaleThenRefund_ThroughTheUrlToken()
    {
        var sale = PaymentsKit.Form(GumroadTests.SaleFields());
        var (saleRaw, _) = await Accepted(await PostGumroad(sale));
        var paid = Only(await Server.NormalizedAsync(saleRaw), "order.paid");

        Assert.Equal("gum", Str(paid, "source"));
        Assert.Equal("gumroad", Str(paid, "provider"));
        Assert.Equal("sale", Str(paid, "provider_type"));
        Assert.Equal("2026-11-20T15:00:05Z", Str(paid, "occurred_at"));
        Assert.Equal("-08:00", Str(paid, "original_timezone"));
        Assert.Equal("ada.lovelace@example.com", Str(paid, "subject.email"));
        Assert.Equal("jt_gum_77", Str(paid, "subject.purchase_token"));
        Assert.Equal("5wJbZ1wddUJlIm5zYmb9Tw==", Str(paid, "order.order_id"));
        Assert.Equal("4900", Str(paid, "order.amount"));
        Assert.Equal("USD", Str(paid, "order.currency"));
        Assert.Equal("course-pro", paid.GetProperty("order").GetProperty("items")[0].GetProperty("sku").GetString());
        Assert.Equal("newsletter", Str(paid, "attribution.utm_source"));

        // Gumroad's retry only adds retry_count: the same key, acknowledged as a duplicate.
        var (retryRaw, duplicate) = await Accepted(await PostGumroad(sale + "&retry_count=1"));
        Assert.True(duplicate);
        Assert.Equal(saleRaw, retryRaw);

        var (refundRaw, _) = await Accepted(await PostGumroad(PaymentsKit.Form(GumroadTests.SaleFields("refund", refunded: true))));
        var refunded = Only(await Server.NormalizedAsync(refundRaw), "order.refunded");
        Assert.Equal("5wJbZ1wddUJlIm5zYmb9Tw==", Str(refunded, "order.order_id"));
        Assert.Equal("4900", Str(refunded, "order.refunded_total"));
        Assert.Equal("true", Str(refunded, "order.fully_refunded"));
    }

    [Fact]
    public async Task Gumroad_WithoutOrWithAWrongToken_IsRefused_AndNothingIsStored()
    {
        using var missing = await PostGumroad(PaymentsKit.Form(GumroadTests.SaleFields()), token: null);
        using var wrong = await PostGumroad(PaymentsKit.Form(GumroadTests.SaleFields()), token: "gr_tok_not_the_right_one");

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Empty(await Server.AllRawEventsAsync("gum"));
    }

    private Task<HttpResponseMessage> PostLemon(string body, string eventName) =>
        Server.PostAsync("lemon", Encoding.UTF8.GetBytes(body), "application/json", new Dictionary<string, string>
        {
            ["X-Event-Name"] = eventName,
            ["X-Signature"] = PaymentsKit.LemonSqueezy(LemonSecret, body),
        });

    [Fact]
    public async Task LemonSqueezy_OrderCreatedThenRefunded()
    {
        var (createdRaw, _) = await Accepted(await PostLemon(LemonSqueezyTests.Order(), "order_created"));
        var paid = Only(await Server.NormalizedAsync(createdRaw), "order.paid");
        Assert.Equal("gernser@yahoo.com", Str(paid, "subject.email"));
        Assert.Equal("1", Str(paid, "order.order_id"));
        Assert.Equal("1199", Str(paid, "order.amount"));
        Assert.Equal("true", Str(paid, "test_mode"));
        Assert.Equal("youtube", Str(paid, "attribution.utm_source"));

        var refundBody = LemonSqueezyTests.Order("order_refunded", "refunded", 1199, "2026-11-21T09:00:00.000000Z", "2026-11-21T09:00:00.000000Z");
        var (refundRaw, _) = await Accepted(await PostLemon(refundBody, "order_refunded"));
        var refunded = Only(await Server.NormalizedAsync(refundRaw), "order.refunded");
        Assert.Equal("1", Str(refunded, "order.order_id"));
        Assert.Equal("1199", Str(refunded, "order.refunded_total"));
        Assert.Equal("true", Str(refunded, "order.fully_refunded"));

        using var forged = await Server.PostAsync("lemon", Encoding.UTF8.GetBytes(refundBody), "application/json",
            new Dictionary<string, string> { ["X-Event-Name"] = "order_refunded", ["X-Signature"] = PaymentsKit.LemonSqueezy("not_the_secret", refundBody) });
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
    }

    private Task<HttpResponseMessage> PostPaddle(string source, string body) =>
        Server.PostAsync(source, Encoding.UTF8.GetBytes(body), "application/json", new Dictionary<string, string>
        {
            ["Paddle-Signature"] = PaymentsKit.Paddle(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(), body, PaddleSecret),
        });

    [Fact]
    public async Task Paddle_TransactionCompleted_FetchesTheEmail_ThroughA429WithRetryAfter()
    {
        var (rawId, _) = await Accepted(await PostPaddle("paddle-api", PaddleTests.Transaction()));

        var paid = Only(await Server.NormalizedAsync(rawId), "order.paid");

        Assert.Equal("sam.miller@example.com", Str(paid, "subject.email"));
        Assert.Equal("ctm_01hv6y1jedq4p1n0yqn5ba3ky4", Str(paid, "subject.customer_id"));
        Assert.Equal("txn_01hv8wptq8987qeep44cyrewp9", Str(paid, "order.order_id"));
        Assert.Equal("65927", Str(paid, "order.amount"));
        Assert.Equal("USD", Str(paid, "order.currency"));
        Assert.Equal("jt_pad_9", Str(paid, "subject.purchase_token"));
        var calls = _paddle!.Requests.Where(r => r.Request.StartsWith("GET /customers/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, calls.Count);
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromSeconds(0.9), $"Retry-After: 1 was not honoured ({calls[1].At - calls[0].At})");
        Assert.All(calls, c => Assert.Equal("/customers/ctm_01hv6y1jedq4p1n0yqn5ba3ky4", c.Request["GET ".Length..]));
    }

    [Fact]
    public async Task Paddle_PendingRefundIsIgnored_ApprovedRefundNamesTheTransaction_AndARetryIsADuplicate()
    {
        var (pendingRaw, _) = await Accepted(await PostPaddle("paddle", PaddleTests.Adjustment(status: "pending_approval", eventType: "adjustment.created")));
        var pending = await Server.NormalizedAsync(pendingRaw);
        Assert.Equal("ignored", pending.Status);

        var approved = PaddleTests.Adjustment().Replace("evt_01h8f1bs3ak5gykzx1zdvfb81s", "evt_01h8f9x0000000000000000002", StringComparison.Ordinal);
        var (approvedRaw, _) = await Accepted(await PostPaddle("paddle", approved));
        var refunded = Only(await Server.NormalizedAsync(approvedRaw), "order.refunded");
        Assert.Equal("txn_01hv8wptq8987qeep44cyrewp9", Str(refunded, "order.order_id"));
        Assert.Equal("adj_01h8c65c2ggq5nxswnnwv78e75", Str(refunded, "order.refund_id"));
        Assert.Equal("1500", Str(refunded, "order.refund_amount"));

        var (_, duplicate) = await Accepted(await PostPaddle("paddle", approved));
        Assert.True(duplicate);

        using var stale = await Server.PostAsync("paddle", Encoding.UTF8.GetBytes(approved), "application/json", new Dictionary<string, string>
        {
            ["Paddle-Signature"] = PaymentsKit.Paddle(TimeProvider.System.GetUtcNow().AddMinutes(-10).ToUnixTimeSeconds(), approved, PaddleSecret),
        });
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
    }

    private Task<HttpResponseMessage> PostWoo(string body, string topic) =>
        Server.PostAsync("woo", Encoding.UTF8.GetBytes(body), "application/json", new Dictionary<string, string>
        {
            ["X-WC-Webhook-Source"] = "https://shop.example.com/",
            ["X-WC-Webhook-Topic"] = topic,
            ["X-WC-Webhook-Resource"] = "order",
            ["X-WC-Webhook-Event"] = topic.Split('.')[1],
            ["X-WC-Webhook-Signature"] = PaymentsKit.WooCommerce(WooSecret, body),
            ["X-WC-Webhook-ID"] = "3",
            ["X-WC-Webhook-Delivery-ID"] = Guid.NewGuid().ToString("N"),
        });

    [Fact]
    public async Task WooCommerce_CreationPingIsAnswered_AndNotStored()
    {
        using var ping = await Server.PostAsync("woo", Encoding.UTF8.GetBytes("webhook_id=3"), "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Empty(await Server.AllRawEventsAsync("woo"));
    }

    [Fact]
    public async Task WooCommerce_CompletedOrder_IsPaidAndFulfilled_AndARedeliveryIsADuplicate()
    {
        var body = WooCommerceTests.Order("completed", completed: true);
        var (rawId, _) = await Accepted(await PostWoo(body, "order.updated"));

        var n = await Server.NormalizedAsync(rawId);
        var paid = Only(n, "order.paid");
        Only(n, "order.fulfilled");
        Assert.Equal("727", Str(paid, "order.order_id"));
        Assert.Equal("2935", Str(paid, "order.amount"));
        Assert.Equal("john.doe@example.com", Str(paid, "subject.email"));
        Assert.Equal("2017-03-22T19:28:08Z", Str(paid, "occurred_at"));
        Assert.Equal("-03:00", Str(paid, "original_timezone"));
        Assert.Equal("facebook", Str(paid, "attribution.utm_source"));

        // A new delivery (new delivery id, new signature) of the same order state.
        var (againId, duplicate) = await Accepted(await PostWoo(body, "order.updated"));
        Assert.True(duplicate);
        Assert.Equal(rawId, againId);
    }
}
