using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Providers.PayPal;

/// <summary>
/// PayPal REST webhooks and IPN through the real HTTP intake and normalizer, against a loopback
/// fake of PayPal (certificate URL, OAuth, Orders and Payments APIs, IPN post-back).
/// </summary>
public sealed class PayPalEndToEndTests : IAsyncLifetime
{
    private static readonly PayPalSigning Signing = new(TimeProvider.System.GetUtcNow());

    private FakeApi? _paypal;
    private JunctionServer? _server;
    private int _orderCalls;
    private bool _throttleFirstOrderFetch;

    private JunctionServer Server => _server!;
    private FakeApi PayPal => _paypal!;
    private string CertUrl => new Uri(PayPal.BaseUrl, "/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb").ToString();

    public async ValueTask InitializeAsync()
    {
        _paypal = await FakeApi.StartAsync(app =>
        {
            app.MapGet("/v1/notifications/certs/{name}", () => Results.Text(Signing.ChainPem, "application/x-pem-file"));
            app.MapPost("/v1/oauth2/token", (HttpRequest r) =>
                r.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("client-abc:secret-xyz"))
                    ? Results.Json(new { access_token = "A21AAFtoken", token_type = "Bearer", expires_in = 32400 })
                    : Results.Json(new { error = "invalid_client" }, statusCode: 401));
            app.MapGet("/v2/checkout/orders/{id}", (string id, HttpRequest r, HttpResponse response) =>
            {
                if (r.Headers.Authorization.ToString() != "Bearer A21AAFtoken") return Results.Json(new { name = "AUTHENTICATION_FAILURE" }, statusCode: 401);
                if (Interlocked.Increment(ref _orderCalls) == 1 && _throttleFirstOrderFetch)
                {
                    response.Headers.RetryAfter = "1";
                    return Results.Json(new { name = "RATE_LIMIT_REACHED", message = "Too many requests. Blocked due to rate limiting." }, statusCode: 429);
                }
                return Results.Text(PayPalFixtures.Order(id), "application/json");
            });
            app.MapGet("/v2/payments/captures/{id}", (string id) => Results.Text(PayPalFixtures.Capture(id, "89T257400V0473133"), "application/json"));
            app.MapPost("/cgi-bin/webscr", async (HttpRequest request) =>
            {
                using var copy = new MemoryStream();
                await request.Body.CopyToAsync(copy);
                var posted = Encoding.ASCII.GetString(copy.ToArray());
                // Stands in for PayPal: only the untouched original message is VERIFIED.
                return Results.Text(posted == "cmd=_notify-validate&" + PayPalFixtures.IpnWebAccept() ? "VERIFIED" : "INVALID");
            });
        });
        _server = await JunctionServer.StartAsync(Config());
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_paypal is not null) await _paypal.DisposeAsync();
    }

    private JunctionConfig Config() => new()
    {
        Storage = TestStorage.NewSqlite(),
        Admin = new AdminConfig([JunctionServer.AdminToken]),
        Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
        {
            ["paypal"] = new()
            {
                Id = "paypal", Provider = "paypal", Secrets = [],
                Options = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["webhook_id"] = PayPalFixtures.WebhookId,
                    ["cert_hosts"] = "127.0.0.1",
                    ["ca_certificate"] = Signing.RootPem,
                    ["api_base_url"] = PayPal.BaseUrl.ToString(),
                    ["client_id"] = "client-abc",
                    ["client_secret"] = "secret-xyz",
                },
            },
            ["ipn"] = new()
            {
                Id = "ipn", Provider = "paypal-ipn", Secrets = [],
                Options = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["ipn_url"] = new Uri(PayPal.BaseUrl, "/cgi-bin/webscr").ToString(),
                    ["receiver_email"] = "seller@example.com",
                },
            },
        },
        Path = "test.yaml",
    };

    private async Task<HttpResponseMessage> PostPayPal(string json, Func<byte[], Dictionary<string, string>>? headers = null)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return await Server.PostAsync("paypal", body, "application/json",
            (headers ?? (b => Signing.Headers(b, CertUrl, TimeProvider.System.GetUtcNow())))(body));
    }

    private static async Task<string> RawId(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static JsonElement Only(Normalized n)
    {
        Assert.True(n.Status == "mapped", $"{n.Status}: {n.Reason}");
        return Assert.Single(n.Events);
    }

    [Fact]
    public async Task CaptureCompleted_WaitsPendingWhilePayPalThrottles_ThenMapsWithTheBuyerAndItemsOfTheOrder()
    {
        _throttleFirstOrderFetch = true;
        using var response = await PostPayPal(PayPalFixtures.CaptureCompleted());
        var rawId = await RawId(response);

        var pending = await Server.NormalizedAsync(rawId, until: "pending|mapped");
        for (var i = 0; i < 100 && pending.Status == "pending" && pending.Reason is null; i++)
        {
            await Task.Delay(20);
            pending = await Server.NormalizedAsync(rawId, until: "pending|mapped");
        }
        Assert.Equal("pending", pending.Status);
        Assert.Contains("429", pending.Reason, StringComparison.Ordinal);

        var e = Only(await Server.NormalizedAsync(rawId));
        var fetches = PayPal.Requests.Where(r => r.Request.StartsWith("GET /v2/checkout/orders/", StringComparison.Ordinal)).Select(r => r.At).ToList();
        Assert.Equal(2, fetches.Count);
        Assert.True(fetches[1] - fetches[0] >= TimeSpan.FromSeconds(0.9), $"Retry-After: 1 was not honoured ({fetches[1] - fetches[0]})");
        Assert.Equal("order.paid", e.GetProperty("type").GetString());
        Assert.Equal("PAYMENT.CAPTURE.COMPLETED", e.GetProperty("provider_type").GetString());
        Assert.Equal("paypal", e.GetProperty("provider").GetString());
        Assert.Equal(rawId, e.GetProperty("raw_id").GetString());
        Assert.Equal("2022-02-02T00:22:38Z", e.GetProperty("occurred_at").GetString());
        Assert.True(e.GetProperty("test_mode").GetBoolean());
        var subject = e.GetProperty("subject");
        Assert.Equal("ada.lovelace+course@example.com", subject.GetProperty("email").GetString());
        Assert.Equal("QYR5Z8XDVJNXQ", subject.GetProperty("customer_id").GetString());
        Assert.Equal("jt_8f3a2c", subject.GetProperty("purchase_token").GetString());
        var order = e.GetProperty("order");
        Assert.Equal("29Y24445UY2083144", order.GetProperty("order_id").GetString()); // the capture
        Assert.Equal(10000, order.GetProperty("amount").GetInt64());
        Assert.Equal("USD", order.GetProperty("currency").GetString());
        Assert.Contains("89T257400V0473133", order.GetProperty("related_ids").EnumerateArray().Select(x => x.GetString()));
        var items = order.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["course-pro", "workbook"], items.Select(i => i.GetProperty("sku").GetString()));
        Assert.Equal(8000, items[0].GetProperty("amount").GetInt64());
        Assert.Equal("ig", e.GetProperty("attribution").GetProperty("utm_source").GetString());
        Assert.Equal(1, PayPal.Count("POST /v1/oauth2/token"));
        Assert.Equal(1, PayPal.Count("GET /v1/notifications/certs/"));
    }

    [Fact]
    public async Task Refund_NamesItsCapture_AndTheFetchedOrder_IsAmongRelatedIds()
    {
        var rawId = await RawId(await PostPayPal(PayPalFixtures.CaptureRefunded()));

        var e = Only(await Server.NormalizedAsync(rawId));

        Assert.Equal("order.refunded", e.GetProperty("type").GetString());
        Assert.Equal("2018-08-15T19:13:29Z", e.GetProperty("occurred_at").GetString());
        Assert.Equal("-07:00", e.GetProperty("original_timezone").GetString());
        var order = e.GetProperty("order");
        Assert.Equal("0JF852973C016714D", order.GetProperty("order_id").GetString());
        Assert.Equal(99, order.GetProperty("refund_amount").GetInt64());
        Assert.Equal(198, order.GetProperty("refunded_total").GetInt64());
        Assert.Equal("1Y107995YT783435V", order.GetProperty("refund_id").GetString());
        Assert.False(order.GetProperty("fully_refunded").GetBoolean());
        Assert.Contains("89T257400V0473133", order.GetProperty("related_ids").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal("ada.lovelace+course@example.com", e.GetProperty("subject").GetProperty("email").GetString());
        Assert.Equal(1, PayPal.Count("GET /v2/payments/captures/0JF852973C016714D"));
    }

    [Fact]
    public async Task ForgedOrReplayedDeliveries_AreRefused_AndARetryIsADuplicate()
    {
        var json = PayPalFixtures.CaptureCompleted(eventId: "WH-DUP-1");
        using var forged = await PostPayPal(json, b => Signing.Headers(b, CertUrl, TimeProvider.System.GetUtcNow(), webhookId: "WEBHOOK_ID"));
        using var stale = await PostPayPal(json, b => Signing.Headers(b, CertUrl, TimeProvider.System.GetUtcNow().AddHours(-1)));
        using var elsewhere = await PostPayPal(json, b => Signing.Headers(b, "https://certs.example.com/cert.pem", TimeProvider.System.GetUtcNow()));

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.Contains("stale", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, elsewhere.StatusCode);
        Assert.Empty(await Server.AllRawEventsAsync("paypal"));

        using var first = await PostPayPal(json);
        using var retry = await PostPayPal(json, b => Signing.Headers(b, CertUrl, TimeProvider.System.GetUtcNow(), transmissionId: "c0ffee00-f8d2-11ee-8d1f-6f3b6a1e1c8e"));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.True((await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        var raw = Assert.Single(await Server.AllRawEventsAsync("paypal"));
        Assert.Equal("WH-DUP-1", raw.GetProperty("dedup_key").GetString());
    }

    [Fact]
    public async Task Ipn_VerifiedByPostBack_MapsInPacificTime_AndAnAlteredMessageIsRefused()
    {
        var body = PayPalFixtures.Bytes(PayPalFixtures.IpnWebAccept());
        using var accepted = await Server.PostAsync("ipn", body, "application/x-www-form-urlencoded; charset=windows-1252");
        using var altered = await Server.PostAsync("ipn", PayPalFixtures.Bytes(PayPalFixtures.IpnWebAccept().Replace("49.00", "0.49", StringComparison.Ordinal)),
            "application/x-www-form-urlencoded");

        var e = Only(await Server.NormalizedAsync(await RawId(accepted)));
        Assert.Equal(HttpStatusCode.Unauthorized, altered.StatusCode);
        Assert.Equal("order.paid", e.GetProperty("type").GetString());
        Assert.Equal("web_accept/Completed", e.GetProperty("provider_type").GetString());
        Assert.Equal("2026-11-20T18:45:12Z", e.GetProperty("occurred_at").GetString());
        Assert.Equal("-08:00", e.GetProperty("original_timezone").GetString());
        Assert.Equal("jose.buyer@example.com", e.GetProperty("subject").GetProperty("email").GetString());
        Assert.Equal("José García", e.GetProperty("subject").GetProperty("name").GetString());
        Assert.Equal("61E67681CH3238416", e.GetProperty("order").GetProperty("order_id").GetString());
        Assert.Equal(4900, e.GetProperty("order").GetProperty("amount").GetInt64());
        Assert.True(e.GetProperty("test_mode").GetBoolean());
        var raw = Assert.Single(await Server.AllRawEventsAsync("ipn"));
        Assert.Equal("61E67681CH3238416:Completed", raw.GetProperty("dedup_key").GetString());
    }
}
