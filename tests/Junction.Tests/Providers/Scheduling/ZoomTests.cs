using System.Text.Json;
using Junction.Canonical;
using Junction.Config;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.Zoom;
using Junction.Tests.Providers.Payments;
using static Junction.Tests.Providers.Scheduling.ZoomFixtures;

namespace Junction.Tests.Providers.Scheduling;

public sealed class ZoomTests
{
    private const string Secret = "zoom_secret_token_Hq2wPj8";
    private const string NewSecret = "zoom_secret_token_rotated_Lm4";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_773_166_661);
    private static readonly ZoomProvider Provider = new();
    private static readonly SourceConfig Source = new() { Id = "zoom-main", Provider = "zoom", Secrets = [Secret] };

    private static MapResult Map(string body) => Provider.Mapper.Map(PaymentsKit.Raw("zoom", body));

    private static WebhookRequest Signed(string body, long timestamp, string secret = Secret) =>
        PaymentsKit.Request(body, null, ("x-zm-signature", SchedulingKit.Zoom(secret, timestamp, body)),
            ("x-zm-request-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static SignatureCheck Verify(WebhookRequest request, params string[] secrets) =>
        Provider.Verify(request, secrets, TimeSpan.FromSeconds(300), Now);

    [Fact]
    public void Verify_AcceptsV0OverVersionTimestampAndBody_AndARotatedSecret()
    {
        var body = Participant();
        var ts = Now.ToUnixTimeSeconds();

        Assert.True(Verify(Signed(body, ts), Secret).IsValid);
        Assert.True(Verify(Signed(body, ts, NewSecret), Secret, NewSecret).IsValid);
    }

    [Fact]
    public void Verify_RefusesWrongSecret_Tampering_MovedTimestamp_Stale_AndMissingHeaders()
    {
        var body = Participant();
        var ts = Now.ToUnixTimeSeconds();
        var signature = SchedulingKit.Zoom(Secret, ts, body);

        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed(body, ts, NewSecret), Secret).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(PaymentsKit.Request(body.Replace("Dorothy", "Mary", StringComparison.Ordinal), null,
            ("x-zm-signature", signature), ("x-zm-request-timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture))), Secret).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(PaymentsKit.Request(body, null,
            ("x-zm-signature", signature), ("x-zm-request-timestamp", (ts + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))), Secret).Failure);
        Assert.Equal(SignatureFailure.StaleTimestamp, Verify(Signed(body, ts - 301), Secret).Failure);
        Assert.Equal(SignatureFailure.MissingSignature, Verify(PaymentsKit.Request(body), Secret).Failure);
        Assert.Equal(SignatureFailure.MissingSignature, Verify(PaymentsKit.Request(body, null, ("x-zm-signature", signature)), Secret).Failure);
        Assert.Equal(SignatureFailure.MalformedSignature, Verify(PaymentsKit.Request(body, null,
            ("x-zm-signature", signature[3..]), ("x-zm-request-timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture))), Secret).Failure);
    }

    [Fact]
    public void UrlValidation_IsAnsweredWithTheHmacOfThePlainToken_WhenSignedAndFresh()
    {
        var body = UrlValidation();

        var reply = Provider.Handshake(Signed(body, Now.ToUnixTimeSeconds()), Source, Now);

        Assert.NotNull(reply);
        Assert.Equal(200, reply.Status);
        Assert.Equal("application/json", reply.ContentType);
        var json = JsonDocument.Parse(reply.Body).RootElement;
        Assert.Equal("qgg8vlvZRS6UYooatFL8Aw", json.GetProperty("plainToken").GetString());
        Assert.Equal(Convert.ToHexStringLower(PaymentsKit.Hmac(Secret, "qgg8vlvZRS6UYooatFL8Aw")), json.GetProperty("encryptedToken").GetString());
    }

    [Fact]
    public void UrlValidation_ThatIsUnsignedForgedOrStale_IsNotAnswered()
    {
        // Answering would sign a caller-chosen string with our secret: e.g. "v0:{ts}:{forged body}".
        var body = UrlValidation("v0:1773166661:{\"event\":\"webinar.participant_left\"}");
        var ts = Now.ToUnixTimeSeconds();

        Assert.Null(Provider.Handshake(PaymentsKit.Request(body), Source, Now));
        Assert.Null(Provider.Handshake(Signed(body, ts, "not_the_secret"), Source, Now));
        Assert.Null(Provider.Handshake(Signed(body, ts - 3600), Source, Now));
        Assert.Null(Provider.Handshake(Signed(Participant(), ts), Source, Now));
    }

    [Fact]
    public void DedupKey_IsEventTimestampWebinarAndPerson()
    {
        Assert.Equal($"webinar.participant_left:1773166660000:{WebinarUuid}:5WXWGCK6RaGD2hyrvg5tCg",
            Provider.DedupKey(PaymentsKit.Request(Participant())));
        Assert.Equal($"webinar.registration_created:1772900000123:{WebinarUuid}:abcdefghij0-klmnopq23456",
            Provider.DedupKey(PaymentsKit.Request(RegistrationCreated())));
    }

    [Fact]
    public void RegistrationCreated_IsWebinarRegistered_FieldByField()
    {
        var e = PaymentsKit.Single(Map(RegistrationCreated()));

        Assert.Equal(EventTypes.WebinarRegistered, e.Type);
        Assert.Equal("webinar.registration_created", e.ProviderType);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_772_900_000_123), e.OccurredAt);
        Assert.Equal("America/New_York", e.OriginalTimezone);
        Assert.Equal("dorothy.vaughan@example.com", e.Subject.Email);
        Assert.Equal("Dorothy Vaughan", e.Subject.Name);
        Assert.Equal("+17575550188", e.Subject.Phone);
        var w = e.Webinar!;
        Assert.Equal(WebinarId, w.WebinarId);
        Assert.Equal(WebinarUuid, w.OccurrenceId);
        Assert.Equal("Spring Launch Masterclass", w.Topic);
        Assert.Equal("abcdefghij0-klmnopq23456", w.RegistrantId);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T18:00:00Z"), w.StartsAt);
        Assert.Equal("America/New_York", w.Timezone);
        Assert.Null(w.Attendance);
        Assert.Equal(CanonicalEvent.MakeId("zoom-main", $"webinar.registered:{WebinarId}:abcdefghij0-klmnopq23456"), e.Id);
    }

    [Fact]
    public void ParticipantLeft_IsLiveAttendance_WithJoinLeaveAndDuration()
    {
        var e = PaymentsKit.Single(Map(Participant()));

        Assert.Equal(EventTypes.WebinarAttended, e.Type);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T19:17:40Z"), e.OccurredAt);
        Assert.Equal("dorothy.vaughan@example.com", e.Subject.Email);
        Assert.Equal("iFxeBPYun6SAiWUzBcEkX", e.Subject.CustomerId);
        Assert.Equal("5WXWGCK6RaGD2hyrvg5tCg", e.Subject.AnonymousId);
        Assert.Equal("Dorothy Vaughan", e.Subject.Name);
        var w = e.Webinar!;
        Assert.Equal("live", w.Attendance);
        Assert.Equal(WebinarId, w.WebinarId);
        Assert.Equal("abcdefghij0-klmnopq23456", w.RegistrantId);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T18:02:10Z"), w.JoinedAt);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T19:17:40Z"), w.LeftAt);
        Assert.Equal(4530, w.DurationSeconds);
    }

    [Fact]
    public void ParticipantLeft_WithoutJoinTime_HasNoDuration()
    {
        var e = PaymentsKit.Single(Map(Participant(joinTime: null)));

        Assert.Null(e.Webinar!.JoinedAt);
        Assert.Null(e.Webinar.DurationSeconds);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T19:17:40Z"), e.Webinar.LeftAt);
    }

    [Fact]
    public void GuestWithoutEmail_IsKept_WithItsOtherIdentifiers()
    {
        var e = PaymentsKit.Single(Map(Participant(email: "", participantUserId: "", registrantId: "")));

        Assert.Null(e.Subject.Email);
        Assert.Null(e.Subject.CustomerId);
        Assert.Equal("5WXWGCK6RaGD2hyrvg5tCg", e.Subject.AnonymousId);
        Assert.Equal("Dorothy Vaughan", e.Subject.Name);
        Assert.Equal("live", e.Webinar!.Attendance);
    }

    [Fact]
    public void DropAndRejoin_AreTwoStretches_AndARetryIsOne()
    {
        var first = PaymentsKit.Single(Map(Participant(leaveTime: "2026-03-10T18:30:00Z")));
        var second = PaymentsKit.Single(Map(Participant(joinTime: "2026-03-10T18:31:00Z")));
        var retry = PaymentsKit.Single(Map(Participant(joinTime: "2026-03-10T18:31:00Z")));

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(second.Id, retry.Id);
    }

    [Fact]
    public void HostLeaving_Joined_Recordings_Meetings_AndUrlValidation_AreIgnored()
    {
        Assert.IsType<MapResult.Ignored>(Map(Participant(participantUserId: HostId)));
        Assert.IsType<MapResult.Ignored>(Map(Participant("webinar.participant_joined")));
        Assert.Contains("recording", Assert.IsType<MapResult.Ignored>(Map(RecordingCompleted)).Reason, StringComparison.Ordinal);
        Assert.IsType<MapResult.Ignored>(Map(Participant("meeting.participant_left")));
        Assert.IsType<MapResult.Ignored>(Map(UrlValidation()));
    }

    [Fact]
    public void LeftWithoutLeaveTime_IsQuarantined_NamingTheField()
    {
        var body = Participant().Replace("\"leave_time\": \"2026-03-10T19:17:40Z\",", "", StringComparison.Ordinal);

        var q = Assert.IsType<MapResult.Quarantined>(Map(body));

        Assert.StartsWith("payload.object.participant.leave_time:", q.Reason, StringComparison.Ordinal);
    }
}
