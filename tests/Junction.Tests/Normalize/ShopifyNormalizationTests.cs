using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Support;

namespace Junction.Tests.Normalize;

/// <summary>Shopify webhooks (orders/paid, orders/create, refunds/create) through the real intake to canonical events.</summary>
public sealed class ShopifyNormalizationTests : IAsyncLifetime
{
    private const string Secret = "shpss_normalization_test";
    private JunctionServer? _server;
    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync() => _server = await JunctionServer.StartAsync(new JunctionConfig
    {
        Storage = TestStorage.NewSqlite(),
        Admin = new AdminConfig([JunctionServer.AdminToken]),
        Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
        {
            ["shop"] = new() { Id = "shop", Provider = "shopify", Secrets = [Secret] },
        },
        Path = "test.yaml",
    });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    public static string Order(string financialStatus = "paid") => $$"""
        {"id":820982911946154508,"admin_graphql_api_id":"gid://shopify/Order/820982911946154508","app_id":null,
         "buyer_accepts_marketing":true,"checkout_token":"c1d2e3","confirmed":true,"contact_email":"Jon@Example.com",
         "created_at":"2026-11-20T10:00:00-05:00","currency":"USD","current_total_price":"98.00",
         "customer":{"id":115310627314723954,"email":"Jon@Example.com","first_name":"Jon","last_name":"Snow","phone":null},
         "email":"Jon@Example.com","financial_status":"{{financialStatus}}","landing_site":"/products/course-pro?utm_source=newsletter&utm_medium=email&utm_campaign=bf26",
         "name":"#1042","note_attributes":[{"name":"purchase_token","value":"jt_shop_77"}],"order_number":1042,
         "phone":null,"processed_at":"2026-11-20T10:00:05-05:00","referring_site":"https://instagram.com/",
         "test":false,"total_price":"98.00","updated_at":"2026-11-20T10:00:06-05:00",
         "line_items":[{"id":866550311766439020,"price":"49.00","product_id":632910392,"quantity":2,"sku":"COURSE-PRO",
                        "title":"Course Pro","variant_id":808950810}],
         "refunds":[]}
        """;

    public static string Refund() => """
        {"id":509562969,"order_id":820982911946154508,"created_at":"2026-11-21T09:00:00-05:00","note":"changed mind",
         "processed_at":"2026-11-21T09:00:00-05:00","restock":true,
         "refund_line_items":[{"id":104689539,"line_item_id":866550311766439020,"quantity":1,"subtotal":49.0,
             "line_item":{"id":866550311766439020,"product_id":632910392,"sku":"COURSE-PRO","title":"Course Pro"}}],
         "transactions":[{"id":245135463,"amount":"49.00","currency":"USD","kind":"refund","parent_id":389404469,"status":"success"},
                         {"id":245135464,"amount":"5.00","currency":"USD","kind":"refund","parent_id":389404469,"status":"failure"}]}
        """;

    private async Task<string> Post(string topic, string body, string webhookId)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        using var response = await Server.PostAsync("shop", bytes, "application/json", new Dictionary<string, string>
        {
            ["X-Shopify-Hmac-Sha256"] = Sign.Shopify(Secret, bytes),
            ["X-Shopify-Topic"] = topic,
            ["X-Shopify-Shop-Domain"] = "creator.myshopify.com",
            ["X-Shopify-Webhook-Id"] = webhookId,
            ["X-Shopify-API-Version"] = "2025-01",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task OrdersPaid_IsOrderPaid_InUtcWithTheShopOffsetKept_AndAttributionFromTheLandingSite()
    {
        var n = await Server.NormalizedAsync(await Post("orders/paid", Order(), "wh-paid-1"));
        var e = Assert.Single(n.Events);
        Assert.Equal("order.paid", e.GetProperty("type").GetString());
        Assert.Equal("2026-11-20T15:00:05Z", e.GetProperty("occurred_at").GetString());
        Assert.Equal("-05:00", e.GetProperty("original_timezone").GetString());
        Assert.False(e.GetProperty("test_mode").GetBoolean());
        var subject = e.GetProperty("subject");
        Assert.Equal("jon@example.com", subject.GetProperty("email").GetString());
        Assert.Equal("115310627314723954", subject.GetProperty("customer_id").GetString());
        Assert.Equal("jt_shop_77", subject.GetProperty("purchase_token").GetString());
        Assert.Equal("Jon Snow", subject.GetProperty("name").GetString());
        var order = e.GetProperty("order");
        Assert.Equal("820982911946154508", order.GetProperty("order_id").GetString());
        Assert.Equal(9800, order.GetProperty("amount").GetInt64());
        var item = Assert.Single(order.GetProperty("items").EnumerateArray());
        Assert.Equal("COURSE-PRO", item.GetProperty("sku").GetString());
        Assert.Equal(2, item.GetProperty("quantity").GetInt32());
        Assert.Equal(9800, item.GetProperty("amount").GetInt64());
        var attribution = e.GetProperty("attribution");
        Assert.Equal("newsletter", attribution.GetProperty("utm_source").GetString());
        Assert.Equal("bf26", attribution.GetProperty("utm_campaign").GetString());
        Assert.Equal("https://instagram.com/", attribution.GetProperty("referrer").GetString());
    }

    [Fact]
    public async Task OrdersCreateAndOrdersPaid_ForTheSameOrder_AreOneCanonicalEvent()
    {
        var created = await Server.NormalizedAsync(await Post("orders/create", Order(), "wh-create"));
        var paid = await Server.NormalizedAsync(await Post("orders/paid", Order(), "wh-paid-2"));
        Assert.Equal(created.Events[0].GetProperty("id").GetString(), paid.Events[0].GetProperty("id").GetString());
        var all = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/events?source=shop&type=order.paid");
        Assert.Single(all.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task PendingOrder_IsOrderPending()
    {
        var n = await Server.NormalizedAsync(await Post("orders/create", Order("pending"), "wh-pending"));
        Assert.Equal("order.pending", Assert.Single(n.Events).GetProperty("type").GetString());
    }

    [Fact]
    public async Task RefundsCreate_IsOrderRefunded_ForTheSuccessfulTransactionsOnly_AndNamesTheOrder()
    {
        var e = Assert.Single((await Server.NormalizedAsync(await Post("refunds/create", Refund(), "wh-refund"))).Events);
        Assert.Equal("order.refunded", e.GetProperty("type").GetString());
        var order = e.GetProperty("order");
        Assert.Equal("820982911946154508", order.GetProperty("order_id").GetString());
        Assert.Equal(4900, order.GetProperty("refund_amount").GetInt64());
        Assert.Equal("509562969", order.GetProperty("refund_id").GetString());
        Assert.Equal("COURSE-PRO", order.GetProperty("items")[0].GetProperty("sku").GetString());
    }

    [Fact]
    public async Task MissingTopicHeader_IsQuarantined()
    {
        var bytes = Encoding.UTF8.GetBytes(Order());
        using var response = await Server.PostAsync("shop", bytes, "application/json", new Dictionary<string, string>
        {
            ["X-Shopify-Hmac-Sha256"] = Sign.Shopify(Secret, bytes),
            ["X-Shopify-Webhook-Id"] = "wh-no-topic",
        });
        var rawId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var n = await Server.NormalizedAsync(rawId);
        Assert.Equal("quarantined", n.Status);
        Assert.Contains("X-Shopify-Topic", n.Reason, StringComparison.Ordinal);
    }
}
