using System.Net;
using Junction.Tests.Support;
using static Junction.Tests.Capture.CaptureKit;

namespace Junction.Tests.Capture;

/// <summary>POST /v1/events over a real socket: api keys, validation naming each field, dedup, and the stored canonical events.</summary>
public sealed class EventsApiTests : IAsyncLifetime
{
    private JunctionServer? _server;

    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync() => _server = await JunctionServer.StartAsync(ServerConfig());

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private const string Paid = """
        {
          "type": "order.paid",
          "occurred_at": "2026-11-20T11:00:00-05:00",
          "subject": {"email": "Ada@Example.com", "customer_id": "cust_42", "purchase_token": "jt_abc"},
          "order": {"order_id": "ord_1001", "amount": 4900, "currency": "usd",
                    "items": [{"sku": "course-pro", "name": "Course Pro", "quantity": 1, "amount": 4900}]},
          "attribution": {"utm_source": "newsletter", "utm_campaign": "bf"},
          "first_touch": {"utm_source": "ig"},
          "tags": ["buyer"]
        }
        """;

    [Fact]
    public async Task WithoutOrWithAWrongKey_Is401_AndNothingIsStored()
    {
        using var none = await PostJsonAsync(Server.Client, "/v1/events", Paid);
        using var wrong = await PostJsonAsync(Server.Client, "/v1/events", Paid, bearer: "not-the-key-0123456789");
        using var admin = await PostJsonAsync(Server.Client, "/v1/events", Paid, bearer: JunctionServer.AdminToken);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, admin.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await Server.AllRawEventsAsync("app"));
    }

    [Fact]
    public async Task InvalidEvent_Is422NamingEachBadField()
    {
        using var response = await PostJsonAsync(Server.Client, "/v1/events",
            """{"type":"order.payed","occurred_at":"yesterday","subject":{},"order":{"order_id":"o1","amount":"49.00"},"consent":[{"channel":"email"}]}""",
            bearer: ApiKey);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(response);
        var fields = ProblemFields(problem);
        Assert.Contains("type", fields);
        Assert.Contains("occurred_at", fields);
        Assert.Contains("subject", fields);
        Assert.Contains("order.amount", fields);
        Assert.Contains("consent[0].granted", fields);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("type: expected one of ", detail, StringComparison.Ordinal);
        Assert.Contains("order.paid", detail, StringComparison.Ordinal);
        Assert.Contains("subject: expected at least one identifier", detail, StringComparison.Ordinal);
        Assert.Contains("occurred_at: expected ISO-8601", detail, StringComparison.Ordinal);
        Assert.Empty(await Server.AllRawEventsAsync("app"));
    }

    [Fact]
    public async Task MissingTypeAndSubject_AreEachNamed_AndATypeNeedsItsObject()
    {
        using var empty = await PostJsonAsync(Server.Client, "/v1/events", "{}", bearer: ApiKey);
        using var noOrder = await PostJsonAsync(Server.Client, "/v1/events", """{"type":"order.refunded","subject":{"email":"a@example.com"}}""", bearer: ApiKey);
        using var badEmail = await PostJsonAsync(Server.Client, "/v1/events", """{"type":"optin","subject":{"email":"nope"}}""", bearer: ApiKey);

        Assert.Equal(["type", "subject"], ProblemFields(await JsonAsync(empty)));
        Assert.Equal(["order"], ProblemFields(await JsonAsync(noOrder)));
        Assert.Equal(["subject.email"], ProblemFields(await JsonAsync(badEmail)));
    }

    [Fact]
    public async Task ValidEvent_IsStoredAndNormalized_AndListedByGetEvents()
    {
        using var response = await PostJsonAsync(Server.Client, "/v1/events", Paid, bearer: ApiKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await JsonAsync(response);
        var e = await SingleEventAsync(Server, answer.GetProperty("raw_id").GetString()!);
        Assert.Equal(answer.GetProperty("id").GetString(), e.Str("id"));
        Assert.Equal("app", e.Str("source"));
        Assert.Equal("api", e.Str("provider"));
        Assert.Equal("order.paid", e.Str("type"));
        Assert.Equal("2026-11-20T16:00:00Z", e.Str("occurred_at"));
        Assert.Equal("-05:00", e.Str("original_timezone"));
        Assert.Equal("ada@example.com", e.Str("subject.email"));
        Assert.Equal("cust_42", e.Str("subject.customer_id"));
        Assert.Equal("jt_abc", e.Str("subject.purchase_token"));
        Assert.Equal("ord_1001", e.Str("order.order_id"));
        Assert.Equal("4900", e.Str("order.amount"));
        Assert.Equal("USD", e.Str("order.currency"));
        Assert.Equal("course-pro", e.GetProperty("order").GetProperty("items")[0].Str("sku"));
        Assert.Equal("newsletter", e.Str("attribution.utm_source"));
        Assert.Equal("ig", e.Str("first_touch.utm_source"));
        var listed = Assert.Single(await EventsAsync(Server, "app"));
        Assert.Equal(e.Str("id"), listed.Str("id"));
    }

    [Fact]
    public async Task SameIdempotencyKeyTwice_IsOneEvent()
    {
        using var first = await PostJsonAsync(Server.Client, "/v1/events", Paid, bearer: ApiKey, idempotencyKey: "order-1001-paid");
        using var second = await PostJsonAsync(Server.Client, "/v1/events", Paid, bearer: ApiKey, idempotencyKey: "order-1001-paid");

        var a = await JsonAsync(first);
        var b = await JsonAsync(second);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.True(b.GetProperty("duplicate").GetBoolean());
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.Equal(a.GetProperty("raw_id").GetString(), b.GetProperty("raw_id").GetString());
        await SingleEventAsync(Server, a.GetProperty("raw_id").GetString()!);
        Assert.Single(await Server.AllRawEventsAsync("app"));
        Assert.Single(await EventsAsync(Server, "app"));
    }

    [Fact]
    public async Task SameEventIdTwice_WithoutAKey_IsOneEvent()
    {
        const string optin = """{"id":"signup-77","type":"optin","subject":{"email":"x@example.com"},"consent":[{"channel":"email","granted":true}]}""";
        using var first = await PostJsonAsync(Server.Client, "/v1/events", optin, bearer: ApiKey);
        using var second = await PostJsonAsync(Server.Client, "/v1/events", optin.Replace("x@example.com", "X@example.com", StringComparison.Ordinal), bearer: ApiKey);

        var a = await JsonAsync(first);
        var b = await JsonAsync(second);
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.True(b.GetProperty("duplicate").GetBoolean());
        var e = await SingleEventAsync(Server, a.GetProperty("raw_id").GetString()!);
        Assert.True(e.Consent("email").GetProperty("granted").GetBoolean());
        Assert.Equal("app", e.Consent("email").Str("source"));
        Assert.Single(await EventsAsync(Server, "app"));
    }

    [Fact]
    public async Task SourceMayNameAStandardWebhooksSource_ButNotAFormSource()
    {
        using var std = await PostJsonAsync(Server.Client, "/v1/events",
            """{"source":"std","type":"unsubscribe","subject":{"email":"u@example.com"},"consent":[{"channel":"email","granted":false}]}""", bearer: ApiKey);
        using var form = await PostJsonAsync(Server.Client, "/v1/events",
            """{"source":"landing","type":"optin","subject":{"email":"u@example.com"}}""", bearer: ApiKey);

        Assert.Equal(HttpStatusCode.OK, std.StatusCode);
        var e = await SingleEventAsync(Server, (await JsonAsync(std)).GetProperty("raw_id").GetString()!);
        Assert.Equal("std", e.Str("source"));
        Assert.Equal("standard-webhooks", e.Str("provider"));
        Assert.False(e.Consent("email").GetProperty("granted").GetBoolean());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, form.StatusCode);
        Assert.Equal(["source"], ProblemFields(await JsonAsync(form)));
    }

    [Fact]
    public async Task NotJson_Is415_AndMalformedJson_Is400()
    {
        using var text = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent("type=optin") };
        text.Headers.Authorization = new("Bearer", ApiKey);
        using var t = await Server.Client.SendAsync(text);
        using var broken = await PostJsonAsync(Server.Client, "/v1/events", "{\"type\":", bearer: ApiKey);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, t.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
    }
}
