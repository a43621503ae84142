using System.Globalization;
using System.Net;
using System.Text;
using Junction.Tests.Support;
using static Junction.Tests.Capture.CaptureKit;

namespace Junction.Tests.Capture;

/// <summary>
/// Standard Webhooks deliveries (signed per the spec, posted to /v1/hooks/{source}) carrying the
/// generic canonical JSON shape, flat or in the spec's {type, timestamp, data} envelope.
/// </summary>
public sealed class StandardWebhooksMappingTests : IAsyncLifetime
{
    private JunctionServer? _server;

    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync() => _server = await JunctionServer.StartAsync(ServerConfig());

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private async Task<string> PostSigned(string msgId, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var ts = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        using var response = await Server.PostAsync("std", body, "application/json", new Dictionary<string, string>
        {
            ["webhook-id"] = msgId,
            ["webhook-timestamp"] = ts.ToString(CultureInfo.InvariantCulture),
            ["webhook-signature"] = Sign.StandardWebhooks(JunctionServer.StandardSecret, msgId, ts, body),
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await JsonAsync(response)).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task EnvelopeWithCanonicalData_MapsToTheEvent_TimeFromTimestamp()
    {
        var raw = await PostSigned("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", """
            {
              "type": "access.granted",
              "timestamp": "2026-11-20T16:00:05.123456Z",
              "data": {
                "subject": {"email": "learner@example.com", "customer_id": "u_77"},
                "access": {"product_id": "course-pro", "product_name": "Course Pro", "enrollment_id": "enr_9"}
              }
            }
            """);

        var e = await SingleEventAsync(Server, raw);
        Assert.Equal("access.granted", e.Str("type"));
        Assert.Equal("std", e.Str("source"));
        Assert.Equal("standard-webhooks", e.Str("provider"));
        Assert.StartsWith("2026-11-20T16:00:05.123", e.Str("occurred_at"), StringComparison.Ordinal);
        Assert.Equal("learner@example.com", e.Str("subject.email"));
        Assert.Equal("u_77", e.Str("subject.customer_id"));
        Assert.Equal("course-pro", e.Str("access.product_id"));
        Assert.Equal("enr_9", e.Str("access.enrollment_id"));
    }

    [Fact]
    public async Task FlatCanonicalBody_Maps()
    {
        var raw = await PostSigned("msg_flat_1", """
            {"type":"webinar.attended","occurred_at":"2026-11-21T18:30:00+01:00","subject":{"email":"viewer@example.com"},
             "webinar":{"webinar_id":"wb_1","attendance":"recording","duration_seconds":1800}}
            """);

        var e = await SingleEventAsync(Server, raw);
        Assert.Equal("webinar.attended", e.Str("type"));
        Assert.Equal("2026-11-21T17:30:00Z", e.Str("occurred_at"));
        Assert.Equal("+01:00", e.Str("original_timezone"));
        Assert.Equal("recording", e.Str("webinar.attendance"));
        Assert.Equal("1800", e.Str("webinar.duration_seconds"));
    }

    [Fact]
    public async Task InvalidCanonicalBody_IsQuarantined_NamingEachField()
    {
        var raw = await PostSigned("msg_bad_1", """
            {"type":"order.paid","timestamp":"not a time","data":{"subject":{"phone":"12"},"order":{"amount":100}}}
            """);

        var n = await Server.NormalizedAsync(raw);
        Assert.Equal("quarantined", n.Status);
        Assert.Contains("occurred_at: expected ISO-8601", n.Reason, StringComparison.Ordinal);
        Assert.Contains("subject.phone: expected an E.164", n.Reason, StringComparison.Ordinal);
        Assert.Contains("order.order_id: required", n.Reason, StringComparison.Ordinal);
        Assert.Empty(n.Events);
    }

    [Fact]
    public async Task SenderTypeThatIsNotCanonical_IsIgnoredWithTheReason()
    {
        var raw = await PostSigned("msg_other_1", """{"type":"invoice.created","timestamp":"2026-11-20T16:00:00Z","data":{"id":"in_1"}}""");

        var n = await Server.NormalizedAsync(raw);
        Assert.Equal("ignored", n.Status);
        Assert.Contains("invoice.created", n.Reason, StringComparison.Ordinal);
    }
}
