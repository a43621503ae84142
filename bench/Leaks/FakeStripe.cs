using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Junction.Bench.Leaks;

/// <summary>
/// Stripe, as far as a creator's checkout touches it, following docs.stripe.com/api: every event
/// the account produced is in <c>GET /v1/events</c> (newest first, <c>limit</c> up to 100,
/// <c>created[gte]</c>, <c>starting_after</c> cursor, <c>has_more</c>), a Checkout Session's line
/// items at <c>GET /v1/checkout/sessions/{id}/line_items</c>, bearer secret-key auth (401 otherwise);
/// and the webhook sender, which posts an event signed <c>Stripe-Signature: t=…,v1=HMAC-SHA256(secret,
/// "t.body")</c>. Whether an event is ever sent is the sender's business: the list holds them all,
/// as Stripe's does when a webhook endpoint missed one. Live mode (<c>livemode: true</c>), unlike the
/// test suite's fake (<c>tests/…/Support/FakeStripe.cs</c>, PaymentIntents in test mode for smoke
/// runs): test-mode purchases make test people, whom the audit leaves out by design.
/// </summary>
public sealed class FakeStripe : IAsyncDisposable
{
    public const string ApiKey = "sk_live_bench_leaks_4f2a";

    private readonly Lock _gate = new();
    private readonly List<(string Id, long Created, string Json)> _events = [];
    private readonly Dictionary<string, string> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lineItems = new(StringComparer.Ordinal);
    private FakeApi _api = null!;

    public FakeApi Api => _api;

    public Uri BaseUrl => _api.BaseUrl;

    public int EventCount
    {
        get { lock (_gate) return _events.Count; }
    }

    public static async Task<FakeStripe> StartAsync()
    {
        var fake = new FakeStripe();
        fake._api = await FakeApi.StartAsync(fake.Map);
        return fake;
    }

    /// <summary>A paid Checkout Session: its <c>checkout.session.completed</c> event (returned, not sent) and its line items.</summary>
    public string Purchase(string key, string email, long amount, string sku, DateTimeOffset at)
    {
        var session = $"cs_live_{key}";
        var created = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var amountText = amount.ToString(CultureInfo.InvariantCulture);
        lock (_gate)
        {
            _lineItems[session] = $$"""
                {"object":"list","data":[{"id":"li_{{key}}","object":"item","amount_discount":0,"amount_subtotal":{{amountText}},"amount_tax":0,
                  "amount_total":{{amountText}},"currency":"usd","description":"Course Pro",
                  "price":{"id":"price_{{sku}}","object":"price","active":true,"currency":"usd","lookup_key":"{{sku}}","product":"prod_{{sku}}",
                           "type":"one_time","unit_amount":{{amountText}}},"quantity":1}],
                 "has_more":false,"url":"/v1/checkout/sessions/{{session}}/line_items"}
                """;
        }
        return Add($"evt_paid_{key}", "checkout.session.completed", created, $$"""
            {"id":"{{session}}","object":"checkout.session","amount_subtotal":{{amountText}},"amount_total":{{amountText}},
             "currency":"usd","customer":"cus_{{key}}","customer_creation":"always",
             "customer_details":{"email":"{{email}}","name":null,"phone":null,"tax_exempt":"none","tax_ids":[]},
             "customer_email":null,"livemode":true,"metadata":{"utm_source":"newsletter","utm_medium":"email","utm_campaign":"launch"},
             "mode":"payment","payment_intent":"pi_{{key}}","payment_status":"paid","status":"complete","subscription":null}
            """);
    }

    /// <summary>A full refund of that purchase: its <c>charge.refunded</c> event (returned, not sent).</summary>
    public string Refund(string key, string email, long amount, DateTimeOffset at)
    {
        var amountText = amount.ToString(CultureInfo.InvariantCulture);
        return Add($"evt_refund_{key}", "charge.refunded", at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), $$"""
            {"id":"ch_{{key}}","object":"charge","amount":{{amountText}},"amount_captured":{{amountText}},"amount_refunded":{{amountText}},
             "billing_details":{"email":"{{email}}","name":null,"phone":null},"captured":true,"currency":"usd","customer":"cus_{{key}}",
             "livemode":true,"paid":true,"payment_intent":"pi_{{key}}","receipt_email":null,"refunded":true,
             "refunds":{"object":"list","data":[{"id":"re_{{key}}","object":"refund","amount":{{amountText}},"charge":"ch_{{key}}",
               "currency":"usd","payment_intent":"pi_{{key}}","status":"succeeded"}],"has_more":false,"total_count":1},
             "status":"succeeded"}
            """, previous: """{"amount_refunded":0,"refunded":false}""");
    }

    private string Add(string id, string type, string created, string dataObject, string? previous = null)
    {
        var json = $$"""
            {"id":"{{id}}","object":"event","api_version":"2024-06-20","created":{{created}},
             "data":{"object":{{dataObject}}{{(previous is null ? "" : ",\"previous_attributes\":" + previous)}}},
             "livemode":true,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"{{type}}"}
            """;
        lock (_gate)
        {
            _events.Add((id, long.Parse(created, CultureInfo.InvariantCulture), json));
            _byId[id] = json;
        }
        return id;
    }

    /// <summary>The webhook sender: posts the event to <paramref name="url"/>, signed with <paramref name="secret"/> now.</summary>
    public async Task<int> SendAsync(HttpClient http, Uri url, string secret, string eventId, CancellationToken cancellationToken)
    {
        string json;
        lock (_gate) json = _byId[eventId];
        var body = Encoding.UTF8.GetBytes(json);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", Sign.Stripe(secret, body, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));
        request.Headers.UserAgent.ParseAdd("Stripe/1.0 (+https://stripe.com/docs/webhooks)");
        using var response = await http.SendAsync(request, cancellationToken);
        return (int)response.StatusCode;
    }

    private void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/events", (HttpContext http) =>
        {
            if (!Authorized(http)) return Unauthorized();
            var q = http.Request.Query;
            var limit = int.TryParse(q["limit"], CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, 100) : 10;
            var since = long.TryParse(q["created[gte]"], CultureInfo.InvariantCulture, out var s) ? s : long.MinValue;
            var after = q["starting_after"].ToString();
            lock (_gate)
            {
                // Newest first; ties in the order Stripe created them, newest first too.
                var all = _events.Select((e, i) => (e, i)).Where(x => x.e.Created >= since)
                    .OrderByDescending(x => x.e.Created).ThenByDescending(x => x.i).Select(x => x.e).ToList();
                var start = 0;
                if (after.Length > 0)
                {
                    var at = all.FindIndex(e => e.Id == after);
                    if (at < 0) return Error(400, "resource_missing", $"No such event: '{after}'");
                    start = at + 1;
                }
                var page = all.Skip(start).Take(limit).ToList();
                var body = $$"""{"object":"list","data":[{{string.Join(",", page.Select(e => e.Json))}}],"has_more":{{(start + page.Count < all.Count ? "true" : "false")}},"url":"/v1/events"}""";
                return Results.Text(body, "application/json");
            }
        });

        app.MapGet("/v1/checkout/sessions/{id}/line_items", (string id, HttpContext http) =>
        {
            if (!Authorized(http)) return Unauthorized();
            lock (_gate)
            {
                return _lineItems.TryGetValue(id, out var items)
                    ? Results.Text(items, "application/json")
                    : Error(404, "resource_missing", $"No such checkout.session: '{id}'");
            }
        });
    }

    private static bool Authorized(HttpContext http) => http.Request.Headers.Authorization.ToString() == "Bearer " + ApiKey;

    private static IResult Unauthorized() => Error(401, null, "Invalid API Key provided");

    private static IResult Error(int status, string? code, string message) =>
        Results.Json(new { error = new { type = "invalid_request_error", code, message } }, statusCode: status);

    public ValueTask DisposeAsync() => _api.DisposeAsync();
}
