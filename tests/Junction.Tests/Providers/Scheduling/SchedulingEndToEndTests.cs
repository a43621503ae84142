using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Providers.Payments;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Providers.Scheduling;

/// <summary>Calendly, Acuity Scheduling and Zoom webhooks through the real HTTP intake to canonical events.</summary>
public sealed class SchedulingEndToEndTests : IAsyncLifetime
{
    private const string CalendlyKey = "calendly_e2e_signing_key";
    private const string CalendlyToken = "calendly_e2e_personal_access_token";
    private const string AcuityUser = "11145481";
    private const string AcuityKey = "acuity_e2e_api_key_7c1f";
    private const string ZoomSecret = "zoom_e2e_secret_token";
    private const string FormType = "application/x-www-form-urlencoded";

    private FakeApi? _calendlyApi;
    private FakeApi? _acuityApi;
    private JunctionServer? _server;
    private int _acuityCalls;

    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync()
    {
        _calendlyApi = await FakeApi.StartAsync(app => app.MapGet("/scheduled_events/{uuid}", (string uuid, HttpRequest request) =>
            request.Headers.Authorization.ToString() != "Bearer " + CalendlyToken
                ? Results.Json(new { title = "Unauthenticated", message = "The access token is invalid" }, statusCode: 401)
                : uuid == CalendlyFixtures.EventUuid
                    ? Results.Text(CalendlyFixtures.OldScheduledEvent, "application/json")
                    : Results.Json(new { title = "Resource Not Found", message = "The server could not find the requested resource." }, statusCode: 404)));
        _acuityApi = await FakeApi.StartAsync(app => app.MapGet("/appointments/{id}", (string id, HttpRequest request, HttpResponse response) =>
        {
            var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AcuityUser}:{AcuityKey}"));
            if (request.Headers.Authorization.ToString() != basic)
            {
                return Results.Json(new { status_code = 401, message = "Unauthorized", error = "unauthorized" }, statusCode: 401);
            }
            // First throttled (429 + Retry-After), then a server error, then the appointment.
            switch (Interlocked.Increment(ref _acuityCalls))
            {
                case 1:
                    response.Headers.RetryAfter = "1";
                    return Results.Json(new { status_code = 429, message = "Too many requests", error = "too_many_requests" }, statusCode: 429);
                case 2:
                    return Results.Json(new { status_code = 500, message = "Internal error", error = "internal_error" }, statusCode: 500);
                default:
                    return id == "1089357781"
                        ? Results.Text(AcuityFixtures.Appointment(), "application/json")
                        : Results.Json(new { status_code = 404, message = "Appointment not found.", error = "not_found" }, statusCode: 404);
            }
        }));
        _server = await JunctionServer.StartAsync(new JunctionConfig
        {
            Storage = TestStorage.NewSqlite(),
            Admin = new AdminConfig([JunctionServer.AdminToken]),
            Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
            {
                ["cal"] = new()
                {
                    Id = "cal",
                    Provider = "calendly",
                    Secrets = [CalendlyKey],
                    Options = new Dictionary<string, string> { ["api_key"] = CalendlyToken, ["api_base_url"] = _calendlyApi.BaseUrl.ToString() },
                },
                ["acuity"] = new()
                {
                    Id = "acuity",
                    Provider = "acuity",
                    Secrets = [AcuityKey],
                    Options = new Dictionary<string, string>
                    {
                        ["user_id"] = AcuityUser, ["api_key"] = AcuityKey, ["api_base_url"] = _acuityApi.BaseUrl.ToString(),
                    },
                },
                ["zoom"] = new() { Id = "zoom", Provider = "zoom", Secrets = [ZoomSecret] },
            },
            Path = "test.yaml",
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_calendlyApi is not null) await _calendlyApi.DisposeAsync();
        if (_acuityApi is not null) await _acuityApi.DisposeAsync();
    }

    private static long UnixNow => TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();

    private static async Task<string> Accepted(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
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

    private Task<HttpResponseMessage> PostCalendly(string body, long? t = null, string key = CalendlyKey) =>
        Server.PostAsync("cal", Encoding.UTF8.GetBytes(body), "application/json",
            new Dictionary<string, string> { ["Calendly-Webhook-Signature"] = SchedulingKit.Calendly(key, t ?? UnixNow, body) });

    [Fact]
    public async Task Calendly_BookingCreated_FieldByField_AndARetryIsADuplicate()
    {
        var body = CalendlyFixtures.Invitee();
        var rawId = await Accepted(await PostCalendly(body));

        var e = Only(await Server.NormalizedAsync(rawId), "booking.created");

        Assert.Equal("cal", Str(e, "source"));
        Assert.Equal("calendly", Str(e, "provider"));
        Assert.Equal("invitee.created", Str(e, "provider_type"));
        Assert.Equal("2026-03-02T18:00:04Z", Str(e, "occurred_at"));
        Assert.Equal("America/New_York", Str(e, "original_timezone"));
        Assert.Equal("grace.hopper@example.com", Str(e, "subject.email"));
        Assert.Equal("Grace Hopper", Str(e, "subject.name"));
        Assert.Equal("+12125550147", Str(e, "subject.phone"));
        Assert.Equal(CalendlyFixtures.InviteeUri, Str(e, "booking.booking_id"));
        Assert.Equal(CalendlyFixtures.EventTypeUri, Str(e, "booking.event_type"));
        Assert.Equal("Strategy Call", Str(e, "booking.name"));
        Assert.Equal("2026-03-10T14:00:00Z", Str(e, "booking.starts_at"));
        Assert.Equal("2026-03-10T14:30:00Z", Str(e, "booking.ends_at"));
        Assert.Equal("America/New_York", Str(e, "booking.timezone"));
        Assert.Equal("newsletter", Str(e, "attribution.utm_source"));
        Assert.Equal("spring-launch", Str(e, "attribution.utm_campaign"));

        // Calendly's retry: the same body, signed again later.
        using var retry = await PostCalendly(body, UnixNow + 1);
        Assert.True((await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
    }

    [Fact]
    public async Task Calendly_Reschedule_IsOneRescheduledFact_WithThePreviousStartFromTheApi()
    {
        var canceledHalf = CalendlyFixtures.Invitee("invitee.canceled", status: "canceled", rescheduled: true, newInvitee: CalendlyFixtures.NewInviteeUri,
            cancellation: """{"canceled_by": "Grace Hopper", "reason": null, "canceler_type": "invitee", "created_at": "2026-03-04T09:12:40.249398Z"}""");
        var createdHalf = CalendlyFixtures.Invitee(uri: CalendlyFixtures.NewInviteeUri, eventUuid: CalendlyFixtures.NewEventUuid,
            createdAt: "2026-03-04T09:12:41.000000Z", start: "2026-03-12T14:00:00.000000Z", end: "2026-03-12T14:30:00.000000Z",
            oldInvitee: CalendlyFixtures.InviteeUri);

        var canceledRaw = await Accepted(await PostCalendly(canceledHalf));
        var createdRaw = await Accepted(await PostCalendly(createdHalf));

        var canceled = await Server.NormalizedAsync(canceledRaw);
        var e = Only(await Server.NormalizedAsync(createdRaw), "booking.rescheduled");
        Assert.Equal("ignored", canceled.Status);
        Assert.Empty(canceled.Events);
        Assert.Equal(CalendlyFixtures.NewInviteeUri, Str(e, "booking.booking_id"));
        Assert.Equal(CalendlyFixtures.InviteeUri, Str(e, "booking.rescheduled_from"));
        Assert.Equal(CalendlyFixtures.NewInviteeUri, Str(e, "booking.rescheduled_to"));
        Assert.Equal("2026-03-12T14:00:00Z", Str(e, "booking.starts_at"));
        Assert.Equal("2026-03-06T15:00:00Z", Str(e, "booking.previous_starts_at"));
        Assert.Equal(1, _calendlyApi!.Count("GET /scheduled_events/" + CalendlyFixtures.EventUuid));
    }

    [Fact]
    public async Task Calendly_BadSignatureOrStaleTimestamp_Is401_AndNothingIsStored()
    {
        var body = CalendlyFixtures.Invitee(uri: CalendlyFixtures.InviteeUri + "-forged");

        using var forged = await PostCalendly(body, key: "not_the_signing_key");
        using var stale = await PostCalendly(body, UnixNow - 600);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.DoesNotContain(await Server.AllRawEventsAsync("cal"),
            r => r.GetRawText().Contains("-forged", StringComparison.Ordinal));
    }

    private Task<HttpResponseMessage> PostAcuity(string body, string key = AcuityKey) =>
        Server.PostAsync("acuity", Encoding.UTF8.GetBytes(body), FormType,
            new Dictionary<string, string> { ["X-Acuity-Signature"] = SchedulingKit.Acuity(key, body) });

    [Fact]
    public async Task Acuity_Scheduled_WaitsPendingThroughA429AndA500_ThenMapsFromTheFetchedAppointment()
    {
        var rawId = await Accepted(await PostAcuity(AcuityFixtures.Webhook()));

        var pending = await Server.NormalizedAsync(rawId, until: "pending|mapped");
        for (var i = 0; i < 100 && pending.Status == "pending" && pending.Reason is null; i++)
        {
            await Task.Delay(20);
            pending = await Server.NormalizedAsync(rawId, until: "pending|mapped");
        }
        Assert.Equal("pending", pending.Status);
        Assert.Contains("429", pending.Reason, StringComparison.Ordinal);

        var e = Only(await Server.NormalizedAsync(rawId), "booking.created");
        var fetches = _acuityApi!.Requests.Where(r => r.Request == "GET /appointments/1089357781").Select(r => r.At).ToList();
        Assert.Equal(3, fetches.Count);
        Assert.True(fetches[1] - fetches[0] >= TimeSpan.FromSeconds(0.9), $"Retry-After: 1 was not honoured ({fetches[1] - fetches[0]})");
        Assert.Equal("acuity", Str(e, "provider"));
        Assert.Equal("scheduled", Str(e, "provider_type"));
        Assert.Equal("2026-03-02T18:05:12Z", Str(e, "occurred_at"));
        Assert.Equal("America/New_York", Str(e, "original_timezone"));
        Assert.Equal("katherine.johnson@example.com", Str(e, "subject.email"));
        Assert.Equal("Katherine Johnson", Str(e, "subject.name"));
        Assert.Equal("+17575550123", Str(e, "subject.phone"));
        Assert.Equal("1089357781", Str(e, "booking.booking_id"));
        Assert.Equal("5301342", Str(e, "booking.event_type"));
        Assert.Equal("Coaching Session", Str(e, "booking.name"));
        Assert.Equal("2026-03-10T14:00:00Z", Str(e, "booking.starts_at"));
        Assert.Equal("2026-03-10T14:45:00Z", Str(e, "booking.ends_at"));
        Assert.Equal("America/New_York", Str(e, "booking.timezone"));
    }

    [Fact]
    public async Task Acuity_ForgedSignature_Is401_AndNothingIsStored()
    {
        using var forged = await PostAcuity(AcuityFixtures.Webhook(id: "999"), key: "not_the_api_key");
        using var unsigned = await Server.PostAsync("acuity", Encoding.UTF8.GetBytes(AcuityFixtures.Webhook(id: "999")), FormType);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.DoesNotContain(await Server.AllRawEventsAsync("acuity"), r => r.GetRawText().Contains("scheduled:999", StringComparison.Ordinal));
    }

    private Task<HttpResponseMessage> PostZoom(string body, long? timestamp = null, string secret = ZoomSecret)
    {
        var ts = timestamp ?? UnixNow;
        return Server.PostAsync("zoom", Encoding.UTF8.GetBytes(body), "application/json", new Dictionary<string, string>
        {
            ["x-zm-request-timestamp"] = ts.ToString(CultureInfo.InvariantCulture),
            ["x-zm-signature"] = SchedulingKit.Zoom(secret, ts, body),
        });
    }

    [Fact]
    public async Task Zoom_UrlValidation_IsAnsweredAsZoomSpecifies_AndStoredNowhere()
    {
        using var response = await PostZoom(ZoomFixtures.UrlValidation());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("qgg8vlvZRS6UYooatFL8Aw", json.GetProperty("plainToken").GetString());
        Assert.Equal(Convert.ToHexStringLower(PaymentsKit.Hmac(ZoomSecret, "qgg8vlvZRS6UYooatFL8Aw")), json.GetProperty("encryptedToken").GetString());
        Assert.Equal(2, json.EnumerateObject().Count());
        Assert.Empty(await Server.AllRawEventsAsync("zoom"));
    }

    [Fact]
    public async Task Zoom_UrlValidation_ForgedOrStale_Is401_AndNotAnswered()
    {
        using var forged = await PostZoom(ZoomFixtures.UrlValidation("chosen-by-attacker"), secret: "not_the_secret");
        using var stale = await PostZoom(ZoomFixtures.UrlValidation("replayed"), UnixNow - 3600);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.DoesNotContain("encryptedToken", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await Server.AllRawEventsAsync("zoom"));
    }

    [Fact]
    public async Task Zoom_RegistrationThenAttendance_FieldByField_AndAGuestWithoutEmailIsKept()
    {
        var registeredRaw = await Accepted(await PostZoom(ZoomFixtures.RegistrationCreated()));
        var attendedRaw = await Accepted(await PostZoom(ZoomFixtures.Participant()));
        var guestRaw = await Accepted(await PostZoom(ZoomFixtures.Participant(email: "", participantUserId: "", registrantId: "",
            participantUuid: "Gu3stUuidAAAAAAAAAAAAA", userId: "16779264", eventTs: 1_773_166_661_000)));

        var registered = Only(await Server.NormalizedAsync(registeredRaw), "webinar.registered");
        Assert.Equal("webinar.registration_created", Str(registered, "provider_type"));
        Assert.Equal("dorothy.vaughan@example.com", Str(registered, "subject.email"));
        Assert.Equal(ZoomFixtures.WebinarId, Str(registered, "webinar.webinar_id"));
        Assert.Equal("Spring Launch Masterclass", Str(registered, "webinar.topic"));
        Assert.Equal("abcdefghij0-klmnopq23456", Str(registered, "webinar.registrant_id"));
        Assert.Equal("2026-03-10T18:00:00Z", Str(registered, "webinar.starts_at"));
        Assert.Equal("America/New_York", Str(registered, "webinar.timezone"));

        var attended = Only(await Server.NormalizedAsync(attendedRaw), "webinar.attended");
        Assert.Equal("live", Str(attended, "webinar.attendance"));
        Assert.Equal("abcdefghij0-klmnopq23456", Str(attended, "webinar.registrant_id"));
        Assert.Equal("2026-03-10T18:02:10Z", Str(attended, "webinar.joined_at"));
        Assert.Equal("2026-03-10T19:17:40Z", Str(attended, "webinar.left_at"));
        Assert.Equal("4530", Str(attended, "webinar.duration_seconds"));
        Assert.Equal("2026-03-10T19:17:40Z", Str(attended, "occurred_at"));
        Assert.Equal("iFxeBPYun6SAiWUzBcEkX", Str(attended, "subject.customer_id"));

        var guest = Only(await Server.NormalizedAsync(guestRaw), "webinar.attended");
        Assert.Null(Str(guest, "subject.email"));
        Assert.Equal("Gu3stUuidAAAAAAAAAAAAA", Str(guest, "subject.anonymous_id"));
        Assert.Equal("Dorothy Vaughan", Str(guest, "subject.name"));
        Assert.Equal("live", Str(guest, "webinar.attendance"));

        // Zoom's retry resends the body with a new timestamp and signature: a duplicate.
        using var retry = await PostZoom(ZoomFixtures.Participant(), UnixNow + 1);
        Assert.True((await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
    }

    [Fact]
    public async Task Zoom_BadSignatureOrStaleTimestamp_Is401_AndNothingIsStored()
    {
        var body = ZoomFixtures.Participant(participantUuid: "ForgedUuid");

        using var forged = await PostZoom(body, secret: "not_the_secret");
        using var stale = await PostZoom(body, UnixNow - 3600);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.DoesNotContain(await Server.AllRawEventsAsync("zoom"), r => r.GetRawText().Contains("ForgedUuid", StringComparison.Ordinal));
    }
}
