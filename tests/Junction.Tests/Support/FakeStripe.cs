using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Junction.Tests.Support;

/// <summary>
/// Stripe's API in test mode over loopback, following docs.stripe.com/api: bearer secret key (401
/// <c>{"error":{"type":"invalid_request_error"}}</c> otherwise; a live key is refused here), form-encoded
/// POSTs with <c>Idempotency-Key</c> (the same key answers the same object again), PaymentIntents
/// created and confirmed with the test cards <c>pm_card_visa</c> (succeeds) and
/// <c>pm_card_chargeDeclined</c> (402 card_error), refunds by PaymentIntent (400
/// charge_already_refunded the second time), <c>GET /v1/events</c> newest first with
/// <c>starting_after</c> paging and <c>has_more</c>, 429 rate_limit_error, and the webhook sender:
/// each event is posted to <see cref="WebhookUrl"/> signed <c>Stripe-Signature: t=…,v1=…</c>.
/// </summary>
public sealed class FakeStripe : IAsyncDisposable
{
    public const string SecretKey = "sk_test_51JunctionFakeStripeKey";

    private readonly Lock _gate = new();
    private readonly List<JsonObject> _events = []; // oldest first
    private readonly Dictionary<string, JsonObject> _intents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _charges = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _idempotent = new(StringComparer.Ordinal);
    private readonly HttpClient _sender = new();
    private int _rateLimited;
    private long _next = 1;
    private FakeApi _api = null!;

    public Uri BaseUrl => _api.BaseUrl;

    public FakeApi Api => _api;

    /// <summary>Where the webhook endpoint is; null: events are only listed, never sent.</summary>
    public Uri? WebhookUrl { get; set; }

    public string WebhookSecret { get; set; } = JunctionServer.StripeSecret;

    /// <summary>Which event types are sent (the others are only in the list, like a missed webhook).</summary>
    public Func<string, bool> Sends { get; set; } = _ => true;

    /// <summary>Webhook posts made: event id, type, and the status Junction answered.</summary>
    public List<(string EventId, string Type, int Status)> Sent { get; } = [];

    public IReadOnlyList<JsonObject> Events
    {
        get
        {
            lock (_gate) return [.. _events];
        }
    }

    /// <summary>The next <paramref name="count"/> API requests are answered 429.</summary>
    public void RateLimitNext(int count) => Interlocked.Exchange(ref _rateLimited, count);

    public static async Task<FakeStripe> StartAsync()
    {
        var fake = new FakeStripe();
        fake._api = await FakeApi.StartAsync(app => fake.Routes(app));
        return fake;
    }

    private void Routes(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/payment_intents", (HttpRequest r) => Guarded(r, async () => CreateIntent(await r.ReadFormAsync())));
        app.MapPost("/v1/refunds", (HttpRequest r) => Guarded(r, async () => Refund(await r.ReadFormAsync())));
        app.MapGet("/v1/events", (HttpRequest r) => Guarded(r, () => Task.FromResult(List(r.Query))));
    }

    private async Task<IResult> Guarded(HttpRequest request, Func<Task<(int Status, JsonObject Body, List<JsonObject> Emitted)>> handle)
    {
        if (Interlocked.Decrement(ref _rateLimited) >= 0)
        {
            return Results.Json(Error("rate_limit_error", "rate_limit", "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."), statusCode: 429);
        }
        Interlocked.Exchange(ref _rateLimited, 0);
        var auth = request.Headers.Authorization.ToString();
        if (auth != "Bearer " + SecretKey)
        {
            return Results.Json(Error("invalid_request_error", null, "Invalid API Key provided: " + (auth.Length > 14 ? auth[7..14] + "****" : "(none)")), statusCode: 401);
        }
        var key = request.Method == "POST" ? request.Headers["Idempotency-Key"].ToString() : "";
        if (key.Length > 0)
        {
            lock (_gate)
            {
                if (_idempotent.TryGetValue(key, out var replay)) return Results.Text(replay, "application/json", statusCode: 200);
            }
        }
        var (status, body, emitted) = await handle();
        var text = body.ToJsonString();
        if (key.Length > 0 && status == 200)
        {
            lock (_gate) _idempotent[key] = text;
        }
        if (emitted.Count > 0 && WebhookUrl is { } url) _ = Task.Run(() => SendAsync(url, emitted));
        return Results.Text(text, "application/json", statusCode: status);
    }

    private (int, JsonObject, List<JsonObject>) CreateIntent(IFormCollection form)
    {
        if (!long.TryParse(form["amount"], NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return (400, Error("invalid_request_error", "parameter_missing", "Missing required param: amount.", "amount"), []);
        }
        if (amount < 50) return (400, Error("invalid_request_error", "amount_too_small", "Amount must be at least $0.50 usd", "amount"), []);
        var currency = form["currency"].ToString();
        if (currency.Length != 3) return (400, Error("invalid_request_error", "parameter_missing", "Missing required param: currency.", "currency"), []);
        var metadata = new JsonObject();
        foreach (var (k, v) in form.Where(f => f.Key.StartsWith("metadata[", StringComparison.Ordinal) && f.Key.EndsWith(']'))) metadata[k[9..^1]] = v.ToString();
        lock (_gate)
        {
            var id = $"pi_3Test{_next++:D8}";
            var intent = new JsonObject
            {
                ["id"] = id, ["object"] = "payment_intent", ["amount"] = amount, ["amount_received"] = 0, ["currency"] = currency,
                ["customer"] = null, ["description"] = form["description"].ToString(), ["latest_charge"] = null, ["livemode"] = false,
                ["metadata"] = metadata, ["payment_method"] = form["payment_method"].ToString(),
                ["receipt_email"] = form["receipt_email"].Count > 0 ? form["receipt_email"].ToString() : null,
                ["status"] = "requires_payment_method", ["created"] = Now(),
            };
            var emitted = new List<JsonObject> { Emit("payment_intent.created", intent) };
            if (form["confirm"] == "true")
            {
                switch (form["payment_method"].ToString())
                {
                    case "pm_card_visa":
                        var charge = new JsonObject
                        {
                            ["id"] = $"ch_3Test{_next++:D8}", ["object"] = "charge", ["amount"] = amount, ["amount_captured"] = amount, ["amount_refunded"] = 0,
                            ["billing_details"] = new JsonObject { ["email"] = null, ["name"] = null, ["phone"] = null },
                            ["captured"] = true, ["created"] = Now(), ["currency"] = currency, ["customer"] = null, ["livemode"] = false,
                            ["metadata"] = metadata.DeepClone(), ["paid"] = true, ["payment_intent"] = id, ["receipt_email"] = intent["receipt_email"]?.DeepClone(),
                            ["refunded"] = false, ["status"] = "succeeded",
                        };
                        _charges[(string)charge["id"]!] = charge;
                        intent["status"] = "succeeded";
                        intent["amount_received"] = amount;
                        intent["latest_charge"] = charge["id"]!.DeepClone();
                        emitted.Add(Emit("payment_intent.succeeded", intent));
                        emitted.Add(Emit("charge.succeeded", charge));
                        break;
                    case "pm_card_chargeDeclined":
                        intent["status"] = "requires_payment_method";
                        emitted.Add(Emit("payment_intent.payment_failed", intent));
                        _intents[id] = intent;
                        return (402, Error("card_error", "card_declined", "Your card was declined."), emitted);
                    default:
                        return (400, Error("invalid_request_error", "resource_missing", $"No such PaymentMethod: '{form["payment_method"]}'", "payment_method"), []);
                }
            }
            _intents[id] = intent;
            return (200, (JsonObject)intent.DeepClone(), emitted);
        }
    }

    private (int, JsonObject, List<JsonObject>) Refund(IFormCollection form)
    {
        lock (_gate)
        {
            var piId = form["payment_intent"].ToString();
            if (!_intents.TryGetValue(piId, out var intent) || intent["latest_charge"] is not { } chargeId)
            {
                return (400, Error("invalid_request_error", "resource_missing", $"No such payment_intent: '{piId}'", "payment_intent"), []);
            }
            var charge = _charges[(string)chargeId!];
            if ((bool)charge["refunded"]!) return (400, Error("invalid_request_error", "charge_already_refunded", $"Charge {chargeId} has already been refunded."), []);
            var amount = (long)charge["amount"]!;
            var refund = new JsonObject
            {
                ["id"] = $"re_3Test{_next++:D8}", ["object"] = "refund", ["amount"] = amount, ["charge"] = chargeId.DeepClone(), ["created"] = Now(),
                ["currency"] = charge["currency"]!.DeepClone(), ["payment_intent"] = piId, ["status"] = "succeeded", ["metadata"] = new JsonObject(),
            };
            charge["amount_refunded"] = amount;
            charge["refunded"] = true;
            return (200, (JsonObject)refund.DeepClone(), [Emit("charge.refunded", charge), Emit("refund.created", refund)]);
        }
    }

    private (int, JsonObject, List<JsonObject>) List(IQueryCollection query)
    {
        var limit = int.TryParse(query["limit"], out var l) ? Math.Clamp(l, 1, 100) : 10;
        long? since = long.TryParse(query["created[gte]"], out var g) ? g : null;
        lock (_gate)
        {
            var newest = _events.AsEnumerable().Reverse().Where(e => since is null || (long)e["created"]! >= since).ToList();
            if (query["starting_after"].ToString() is { Length: > 0 } after)
            {
                var at = newest.FindIndex(e => (string)e["id"]! == after);
                newest = at < 0 ? [] : newest[(at + 1)..];
            }
            var page = newest.Take(limit).Select(e => (JsonNode)e.DeepClone()).ToArray();
            return (200, new JsonObject { ["object"] = "list", ["data"] = new JsonArray(page), ["has_more"] = newest.Count > limit, ["url"] = "/v1/events" }, []);
        }
    }

    private JsonObject Emit(string type, JsonObject obj)
    {
        var e = new JsonObject
        {
            ["id"] = $"evt_3Test{_next++:D8}", ["object"] = "event", ["api_version"] = "2024-06-20", ["created"] = Now(),
            ["data"] = new JsonObject { ["object"] = obj.DeepClone() }, ["livemode"] = false, ["pending_webhooks"] = 1,
            ["request"] = new JsonObject { ["id"] = null, ["idempotency_key"] = null }, ["type"] = type,
        };
        _events.Add(e);
        return e;
    }

    private async Task SendAsync(Uri url, List<JsonObject> events)
    {
        foreach (var e in events)
        {
            var type = (string)e["type"]!;
            if (!Sends(type)) continue;
            var body = Encoding.UTF8.GetBytes(e.ToJsonString());
            var status = 0;
            for (var attempt = 0; attempt < 3 && status is not (>= 200 and < 300); attempt++)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
                request.Headers.TryAddWithoutValidation("Stripe-Signature", Sign.Stripe(WebhookSecret, body, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));
                try
                {
                    using var response = await _sender.SendAsync(request);
                    status = (int)response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200);
                }
            }
            lock (_gate) Sent.Add(((string)e["id"]!, type, status));
        }
    }

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();

    private static JsonObject Error(string type, string? code, string message, string? param = null)
    {
        var error = new JsonObject { ["type"] = type, ["message"] = message };
        if (code is not null) error["code"] = code;
        if (param is not null) error["param"] = param;
        return new JsonObject { ["error"] = error };
    }

    public async ValueTask DisposeAsync()
    {
        _sender.Dispose();
        await _api.DisposeAsync();
    }
}
