using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Support;

namespace Junction.Tests.Providers.Courses;

/// <summary>Teachable, Thinkific and Kajabi webhooks through the real HTTP intake to canonical events.</summary>
public sealed class CoursesEndToEndTests : IAsyncLifetime
{
    private const string TeachableToken = "tch_tok_e2e_9a7f3b2e4c1d";
    private const string ThinkificKey = "thinkific_api_key_e2e_0123456789";
    private const string KajabiToken = "kjb_tok_e2e_1d9a7f3b2e4c";

    private JunctionServer? _server;

    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync()
    {
        _server = await JunctionServer.StartAsync(new JunctionConfig
        {
            Storage = TestStorage.NewSqlite(),
            Admin = new AdminConfig([JunctionServer.AdminToken]),
            Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
            {
                ["teach"] = new() { Id = "teach", Provider = "teachable", Secrets = [TeachableToken] },
                ["think"] = new() { Id = "think", Provider = "thinkific", Secrets = [ThinkificKey] },
                ["kaj"] = new() { Id = "kaj", Provider = "kajabi", Secrets = [KajabiToken] },
            },
            Path = "test.yaml",
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
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

    // ---------------------------------------------------------------- Thinkific

    private Task<HttpResponseMessage> PostThinkific(string body, string topic, string key = ThinkificKey) =>
        Server.PostAsync("think", Encoding.UTF8.GetBytes(body), "application/json", new Dictionary<string, string>
        {
            ["X-Thinkific-Topic"] = topic,
            ["X-Thinkific-Subdomain"] = "creator",
            ["X-Thinkific-Hmac-Sha256"] = CoursesFixtures.ThinkificSignature(key, body),
        });

    [Fact]
    public async Task Thinkific_EnrollmentCreated_IsAccessGranted_FieldByField_AndARetryIsADuplicate()
    {
        var body = CoursesFixtures.ThinkificEnrollment();
        var (rawId, _) = await Accepted(await PostThinkific(body, "enrollment.created"));

        var granted = Only(await Server.NormalizedAsync(rawId), "access.granted");
        Assert.Equal("think", Str(granted, "source"));
        Assert.Equal("thinkific", Str(granted, "provider"));
        Assert.Equal("enrollment.created", Str(granted, "provider_type"));
        Assert.Equal("2026-11-20T14:18:10.768Z", Str(granted, "occurred_at"));
        Assert.Equal("-05:00", Str(granted, "original_timezone"));
        Assert.Equal("ada.lovelace@example.com", Str(granted, "subject.email"));
        Assert.Equal("94", Str(granted, "subject.customer_id"));
        Assert.Equal("Ada Lovelace", Str(granted, "subject.name"));
        Assert.Equal("68", Str(granted, "access.product_id"));
        Assert.Equal("Course Pro", Str(granted, "access.product_name"));
        Assert.Equal("3", Str(granted, "access.enrollment_id"));
        Assert.Equal("2027-11-20T14:18:10.767Z", Str(granted, "access.expires_at"));
        Assert.Null(Str(granted, "order"));

        var (againId, duplicate) = await Accepted(await PostThinkific(body, "enrollment.created"));
        Assert.True(duplicate);
        Assert.Equal(rawId, againId);
    }

    [Fact]
    public async Task Thinkific_EnrollmentExpired_IsAccessRevoked()
    {
        var (rawId, _) = await Accepted(await PostThinkific(CoursesFixtures.ThinkificEnrollment("expired", "20261201000000000000001", "2026-12-01T00:00:00.000Z"), "enrollment.expired"));

        var revoked = Only(await Server.NormalizedAsync(rawId), "access.revoked");
        Assert.Equal("68", Str(revoked, "access.product_id"));
        Assert.Equal("3", Str(revoked, "access.enrollment_id"));
        Assert.Equal("expired", Str(revoked, "access.reason"));
        Assert.Equal("ada.lovelace@example.com", Str(revoked, "subject.email"));
        Assert.Equal("2026-12-01T00:00:00Z", Str(revoked, "occurred_at"));
        Assert.Null(Str(revoked, "original_timezone"));
    }

    [Fact]
    public async Task Thinkific_OrderThenRefund_ShareTheOrderId()
    {
        var (orderRaw, _) = await Accepted(await PostThinkific(CoursesFixtures.ThinkificOrder(), "order.created"));
        var paid = Only(await Server.NormalizedAsync(orderRaw), "order.paid");
        Assert.Equal("19796", Str(paid, "order.order_id"));
        Assert.Equal("5000", Str(paid, "order.amount"));
        Assert.Null(Str(paid, "order.currency"));
        Assert.Equal("1", Str(paid.GetProperty("order").GetProperty("items")[0], "product_id"));
        Assert.Equal("Introduction to Webhooks", Str(paid.GetProperty("order").GetProperty("items")[0], "name"));
        Assert.Equal("1010", paid.GetProperty("order").GetProperty("related_ids")[0].GetString());
        Assert.Equal("ninjas@thinkific.com", Str(paid, "subject.email"));
        Assert.Equal("123456", Str(paid, "subject.customer_id"));
        Assert.Equal("Robert Smith", Str(paid, "subject.name"));
        Assert.Equal("2026-11-20T22:23:20.808Z", Str(paid, "occurred_at"));

        var (refundRaw, _) = await Accepted(await PostThinkific(CoursesFixtures.ThinkificRefund(), "order_transaction.refunded"));
        var refunded = Only(await Server.NormalizedAsync(refundRaw), "order.refunded");
        Assert.Equal("19796", Str(refunded, "order.order_id"));
        Assert.Equal("2000", Str(refunded, "order.refund_amount"));
        Assert.Equal("22", Str(refunded, "order.refund_id"));
        Assert.Equal("USD", Str(refunded, "order.currency"));
        Assert.Equal("ninjas@thinkific.com", Str(refunded, "subject.email"));
        Assert.Equal("2026-11-22T10:00:00Z", Str(refunded, "occurred_at"));
    }

    [Fact]
    public async Task Thinkific_WrongOrMissingSignature_IsRefused_AndNothingIsStored()
    {
        var body = CoursesFixtures.ThinkificOrder("20180126172320940835699");
        using var wrong = await PostThinkific(body, "order.created", key: "not_the_site_api_key_0000");
        using var missing = await Server.PostAsync("think", Encoding.UTF8.GetBytes(body), "application/json");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Empty(await Server.AllRawEventsAsync("think"));
    }

    [Fact]
    public async Task Thinkific_UnknownTopic_IsIgnored_AndEnrollmentWithoutCourse_IsQuarantinedNamingTheField()
    {
        var lesson = CoursesFixtures.ThinkificEnvelope("20261120000000000000777", "lesson", "completed", "2026-11-20T10:00:00Z", """{"id": 5, "user": {"id": 1}}""");
        var (lessonRaw, _) = await Accepted(await PostThinkific(lesson, "lesson.completed"));
        var ignored = await Server.NormalizedAsync(lessonRaw);
        Assert.Equal("ignored", ignored.Status);
        Assert.Contains("lesson.completed", ignored.Reason, StringComparison.Ordinal);

        var broken = CoursesFixtures.ThinkificEnvelope("20261120000000000000778", "enrollment", "created", "2026-11-20T10:00:00Z",
            """{"id": 9, "user": {"id": 1, "email": "a@example.com"}}""");
        var (brokenRaw, _) = await Accepted(await PostThinkific(broken, "enrollment.created"));
        var quarantined = await Server.NormalizedAsync(brokenRaw);
        Assert.Equal("quarantined", quarantined.Status);
        Assert.Contains("payload.course.id", quarantined.Reason, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- Teachable

    private Task<HttpResponseMessage> PostTeachable(string body, string? token = TeachableToken) =>
        Server.PostAsync("teach", Encoding.UTF8.GetBytes(body), "application/json", query: token is null ? null : "token=" + token);

    [Fact]
    public async Task Teachable_SaleThenRefund_ShareTheSaleAsOrderId()
    {
        var (saleRaw, _) = await Accepted(await PostTeachable(CoursesFixtures.TeachableSale()));
        var paid = Only(await Server.NormalizedAsync(saleRaw), "order.paid");
        Assert.Equal("teachable", Str(paid, "provider"));
        Assert.Equal("Sale.created", Str(paid, "provider_type"));
        Assert.Equal("18900212", Str(paid, "order.order_id"));
        Assert.Equal("7900", Str(paid, "order.amount"));
        Assert.Equal("USD", Str(paid, "order.currency"));
        var item = paid.GetProperty("order").GetProperty("items")[0];
        Assert.Equal("863254", Str(item, "product_id"));
        Assert.Equal("Social Anxiety Course", Str(item, "name"));
        Assert.Equal("webhook@mailinator.com", Str(paid, "subject.email"));
        Assert.Equal("Webhook@Mailinator.com", Str(paid, "subject.email_raw"));
        Assert.Equal("15747624", Str(paid, "subject.customer_id"));
        Assert.Equal("Webhooktest", Str(paid, "subject.name"));
        Assert.Equal("2026-11-20T19:05:54Z", Str(paid, "occurred_at"));
        Assert.Equal("+01:00", Str(paid, "original_timezone"));
        Assert.Equal("false", Str(paid, "test_mode"));

        var (refundRaw, _) = await Accepted(await PostTeachable(CoursesFixtures.TeachableRefund()));
        var refunded = Only(await Server.NormalizedAsync(refundRaw), "order.refunded");
        Assert.Equal("18900212", Str(refunded, "order.order_id"));
        Assert.Equal("7900", Str(refunded, "order.refund_amount"));
        Assert.Equal("88001", Str(refunded, "order.refund_id"));
        Assert.Equal("USD", Str(refunded, "order.currency"));
        Assert.Equal("2026-11-22T07:59:58Z", Str(refunded, "occurred_at"));
        Assert.Equal("webhook@mailinator.com", Str(refunded, "subject.email"));
    }

    [Fact]
    public async Task Teachable_EnrollmentCreatedThenDisabled_GrantsThenRevokesTheCourse()
    {
        var (grantRaw, _) = await Accepted(await PostTeachable(CoursesFixtures.TeachableEnrollment()));
        var granted = Only(await Server.NormalizedAsync(grantRaw), "access.granted");
        Assert.Equal("302950", Str(granted, "access.product_id"));
        Assert.Equal("Overcoming Social Anxiety", Str(granted, "access.product_name"));
        Assert.Equal("4321", Str(granted, "access.enrollment_id"));
        Assert.Null(Str(granted, "access.expires_at"));
        Assert.Equal("webhook@mailinator.com", Str(granted, "subject.email"));
        Assert.Equal("15747624", Str(granted, "subject.customer_id"));

        var (revokeRaw, _) = await Accepted(await PostTeachable(CoursesFixtures.TeachableEnrollment("Enrollment.disabled", 5502)));
        var revoked = Only(await Server.NormalizedAsync(revokeRaw), "access.revoked");
        Assert.Equal("302950", Str(revoked, "access.product_id"));
        Assert.Equal("4321", Str(revoked, "access.enrollment_id"));
        Assert.Equal("unenrolled", Str(revoked, "access.reason"));
        Assert.NotEqual(Str(granted, "id"), Str(revoked, "id"));
    }

    [Fact]
    public async Task Teachable_WithoutOrWithAWrongToken_IsRefused_AndNothingIsStored()
    {
        using var missing = await PostTeachable(CoursesFixtures.TeachableSale(), token: null);
        using var wrong = await PostTeachable(CoursesFixtures.TeachableSale(), token: "tch_tok_not_the_right_one");

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Empty(await Server.AllRawEventsAsync("teach"));
    }

    [Fact]
    public async Task Teachable_UnknownEvent_IsIgnored_AndRefundWithoutSale_IsQuarantinedNamingTheField()
    {
        var comment = """{"type": "Comment.created", "id": 991, "livemode": true, "created": "2026-11-20T10:00:00+00:00", "object": {"id": 1}}""";
        var (commentRaw, _) = await Accepted(await PostTeachable(comment));
        var ignored = await Server.NormalizedAsync(commentRaw);
        Assert.Equal("ignored", ignored.Status);
        Assert.Contains("Comment.created", ignored.Reason, StringComparison.Ordinal);

        var broken = CoursesFixtures.TeachableRefund().Replace("\"sale_id\": 18900212,", "", StringComparison.Ordinal).Replace("88001", "88002", StringComparison.Ordinal);
        var (brokenRaw, _) = await Accepted(await PostTeachable(broken));
        var quarantined = await Server.NormalizedAsync(brokenRaw);
        Assert.Equal("quarantined", quarantined.Status);
        Assert.Contains("object.sale_id", quarantined.Reason, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- Kajabi

    private Task<HttpResponseMessage> PostKajabi(string body, string? token = KajabiToken) =>
        Server.PostAsync("kaj", Encoding.UTF8.GetBytes(body), "application/json", query: token is null ? null : "token=" + token);

    [Fact]
    public async Task Kajabi_Purchase_IsOneOrderPaid_WithTheOfferAndTheCheckoutOptIn()
    {
        var (rawId, _) = await Accepted(await PostKajabi(CoursesFixtures.KajabiPurchase()));

        var n = await Server.NormalizedAsync(rawId);
        var paid = Only(n, "order.paid");
        Assert.Single(n.Events);
        Assert.Equal("kajabi", Str(paid, "provider"));
        Assert.Equal("purchase", Str(paid, "provider_type"));
        Assert.Equal("5501", Str(paid, "order.order_id"));
        Assert.Equal("19700", Str(paid, "order.amount"));
        Assert.Equal("USD", Str(paid, "order.currency"));
        var item = paid.GetProperty("order").GetProperty("items")[0];
        Assert.Equal("2150", Str(item, "product_id"));
        Assert.Equal("Creator Academy", Str(item, "name"));
        Assert.Equal("john.doe@example.com", Str(paid, "subject.email"));
        Assert.Equal("4401", Str(paid, "subject.customer_id"));
        Assert.Equal("John Doe", Str(paid, "subject.name"));
        Assert.Equal("2026-11-20T16:59:27.58Z", Str(paid, "occurred_at"));
        Assert.Equal("https://instagram.com/", Str(paid, "attribution.referrer"));
        var consent = Assert.Single(paid.GetProperty("consent").EnumerateArray());
        Assert.Equal("email", Str(consent, "channel"));
        Assert.Equal("true", Str(consent, "granted"));
        Assert.Equal("kajabi checkout offer 2150", Str(consent, "source"));

        var (_, duplicate) = await Accepted(await PostKajabi(CoursesFixtures.KajabiPurchase()));
        Assert.True(duplicate);
    }

    [Fact]
    public async Task Kajabi_FormSubmission_IsAnOptin_FromTheForm()
    {
        var (rawId, _) = await Accepted(await PostKajabi(CoursesFixtures.KajabiFormSubmission()));

        var optin = Only(await Server.NormalizedAsync(rawId), "optin");
        Assert.Equal("jane@example.com", Str(optin, "subject.email"));
        Assert.Equal("+12125550100", Str(optin, "subject.phone"));
        Assert.Equal("Jane Roe", Str(optin, "subject.name"));
        var consent = Assert.Single(optin.GetProperty("consent").EnumerateArray());
        Assert.Equal("true", Str(consent, "granted"));
        Assert.Equal("kajabi form 31", Str(consent, "source"));
        Assert.Equal(["Free Masterclass"], optin.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task Kajabi_TagAddedAndRemoved_AreTagEvents_AndOfferRevoked_IsAccessRevoked()
    {
        var (addRaw, _) = await Accepted(await PostKajabi(CoursesFixtures.KajabiTag()));
        var added = Only(await Server.NormalizedAsync(addRaw), "tag.added");
        Assert.Equal(["vip"], added.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("4401", Str(added, "subject.customer_id"));

        var (removeRaw, _) = await Accepted(await PostKajabi(CoursesFixtures.KajabiTag("tag_removed", "h_tag_2")));
        Only(await Server.NormalizedAsync(removeRaw), "tag.removed");

        var revoke = """
            {"id": "h_rev_1", "event": "offer.revoked", "offer": {"id": 2150, "title": "Creator Academy"},
             "member": {"id": 4401, "email": "john.doe@example.com", "name": "John Doe"}}
            """;
        var (revokeRaw, _) = await Accepted(await PostKajabi(revoke));
        var revoked = Only(await Server.NormalizedAsync(revokeRaw), "access.revoked");
        Assert.Equal("2150", Str(revoked, "access.product_id"));
        Assert.Equal("Creator Academy", Str(revoked, "access.product_name"));
        Assert.Equal("4401", Str(revoked, "subject.customer_id"));
    }

    [Fact]
    public async Task Kajabi_WrongToken_IsRefused_UnknownEventIgnored_PurchaseWithoutPurchases_Quarantined()
    {
        using var wrong = await PostKajabi(CoursesFixtures.KajabiPurchase("h_wrong"), token: "kjb_tok_not_the_right_one");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        var (paymentRaw, _) = await Accepted(await PostKajabi("""{"id": "h_pay_1", "event": "payment_succeeded", "payload": []}"""));
        var ignored = await Server.NormalizedAsync(paymentRaw);
        Assert.Equal("ignored", ignored.Status);
        Assert.Contains("payment_succeeded", ignored.Reason, StringComparison.Ordinal);

        var (brokenRaw, _) = await Accepted(await PostKajabi("""{"id": "h_bad_1", "event": "purchase", "payload": [{"id": "1", "type": "offers", "attributes": {}}]}"""));
        var quarantined = await Server.NormalizedAsync(brokenRaw);
        Assert.Equal("quarantined", quarantined.Status);
        Assert.Contains("purchases", quarantined.Reason, StringComparison.Ordinal);
    }
}
