using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.Calendly;
using Junction.Tests.Providers.Payments;
using static Junction.Tests.Providers.Scheduling.CalendlyFixtures;

namespace Junction.Tests.Providers.Scheduling;

public sealed class CalendlyTests
{
    private const string Key = "calendly_signing_key_0b1c2d";
    private const string NewKey = "calendly_signing_key_rotated_9f8e";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_772_474_404);
    private static readonly CalendlyProvider Provider = new();

    private static MapResult Map(string body, bool canEnrich = false, string? previous = null) =>
        Provider.Mapper.Map(PaymentsKit.Raw("calendly", body, canEnrich: canEnrich,
            enrichment: previous is null ? null : new Dictionary<string, string> { [CalendlyMapper.PreviousEventKey] = previous }));

    private static SignatureCheck Verify(string body, string? header, string[] secrets, DateTimeOffset? now = null) =>
        Provider.Verify(header is null ? PaymentsKit.Request(body) : PaymentsKit.Request(body, null, ("Calendly-Webhook-Signature", header)),
            secrets, TimeSpan.FromSeconds(180), now ?? Now);

    [Fact]
    public void Verify_AcceptsV1OverTimestampDotBody_AndARotatedKey()
    {
        var body = Invitee();
        var t = Now.ToUnixTimeSeconds();

        Assert.True(Verify(body, SchedulingKit.Calendly(Key, t, body), [Key]).IsValid);
        Assert.True(Verify(body, SchedulingKit.Calendly(NewKey, t, body), [Key, NewKey]).IsValid);
    }

    [Fact]
    public void Verify_RefusesWrongKey_TamperedBody_MovedTimestamp_Stale_AndMalformed()
    {
        var body = Invitee();
        var t = Now.ToUnixTimeSeconds();
        var header = SchedulingKit.Calendly(Key, t, body);

        Assert.Equal(SignatureFailure.BadSignature, Verify(body, SchedulingKit.Calendly(NewKey, t, body), [Key]).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(body.Replace("Strategy Call", "Free Call", StringComparison.Ordinal), header, [Key]).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(body, header.Replace($"t={t}", $"t={t + 1}", StringComparison.Ordinal), [Key]).Failure);
        Assert.Equal(SignatureFailure.StaleTimestamp, Verify(body, SchedulingKit.Calendly(Key, t - 600, body), [Key]).Failure);
        Assert.Equal(SignatureFailure.MissingSignature, Verify(body, null, [Key]).Failure);
        Assert.Equal(SignatureFailure.MalformedSignature, Verify(body, "v1=abc", [Key]).Failure);
    }

    [Fact]
    public void DedupKey_IsTheEventAndTheInviteeUri()
    {
        Assert.Equal("invitee.created:" + InviteeUri, Provider.DedupKey(PaymentsKit.Request(Invitee())));
        Assert.Equal("invitee.canceled:" + InviteeUri, Provider.DedupKey(PaymentsKit.Request(Invitee("invitee.canceled"))));
    }

    [Fact]
    public void InviteeCreated_IsBookingCreated_FieldByField()
    {
        var e = PaymentsKit.Single(Map(Invitee()));

        Assert.Equal(EventTypes.BookingCreated, e.Type);
        Assert.Equal("invitee.created", e.ProviderType);
        Assert.Equal(SchedulingKit.Utc("2026-03-02T18:00:04Z"), e.OccurredAt);
        Assert.Equal("America/New_York", e.OriginalTimezone);
        Assert.Equal("grace.hopper@example.com", e.Subject.Email);
        Assert.Equal("Grace.Hopper@Example.com", e.Subject.EmailRaw);
        Assert.Equal("Grace Hopper", e.Subject.Name);
        Assert.Equal("+12125550147", e.Subject.Phone);
        var b = e.Booking!;
        Assert.Equal(InviteeUri, b.BookingId);
        Assert.Equal(EventTypeUri, b.EventType);
        Assert.Equal("Strategy Call", b.Name);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T14:00:00Z"), b.StartsAt);
        Assert.Equal(TimeSpan.Zero, b.StartsAt!.Value.Offset);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T14:30:00Z"), b.EndsAt);
        Assert.Equal("America/New_York", b.Timezone);
        Assert.Null(b.RescheduledFrom);
        Assert.Null(b.CancelReason);
        Assert.Equal("newsletter", e.Attribution!.UtmSource);
        Assert.Equal("email", e.Attribution.UtmMedium);
        Assert.Equal("spring-launch", e.Attribution.UtmCampaign);
        Assert.Null(e.Attribution.UtmTerm);
        Assert.Equal(CanonicalEvent.MakeId("calendly-main", "booking.created:" + InviteeUri), e.Id);
    }

    [Fact]
    public void BookingsInNewYork_EitherSideOfTheMarchDstSwitch_LandInTheRightUtc_WithTheZoneKept()
    {
        // US clocks went forward on 2026-03-08: 10:00 in New York is 15:00Z before, 14:00Z after.
        var before = PaymentsKit.Single(Map(Invitee(start: "2026-03-06T15:00:00.000000Z", end: "2026-03-06T15:30:00.000000Z",
            uri: InviteeUri.Replace(InviteeUuid, "a1", StringComparison.Ordinal))));
        var after = PaymentsKit.Single(Map(Invitee()));

        Assert.Equal(SchedulingKit.Utc("2026-03-06T15:00:00Z"), before.Booking!.StartsAt);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T14:00:00Z"), after.Booking!.StartsAt);
        Assert.Equal("America/New_York", before.Booking.Timezone);
        Assert.Equal("America/New_York", after.Booking.Timezone);
        Assert.Equal(new DateTime(2026, 3, 6, 10, 0, 0), SchedulingKit.Local(before.Booking.StartsAt!.Value, before.Booking.Timezone!));
        Assert.Equal(new DateTime(2026, 3, 10, 10, 0, 0), SchedulingKit.Local(after.Booking.StartsAt!.Value, after.Booking.Timezone!));
    }

    [Fact]
    public void InviteeCanceled_IsBookingCanceled_WithWhoAndWhy()
    {
        var body = Invitee("invitee.canceled", status: "canceled", createdAt: "2026-03-04T09:12:41.000000Z",
            cancellation: """{"canceled_by": "Grace Hopper", "reason": "Travelling that week", "canceler_type": "invitee", "created_at": "2026-03-04T09:12:40.249398Z"}""");

        var e = PaymentsKit.Single(Map(body));

        Assert.Equal(EventTypes.BookingCanceled, e.Type);
        Assert.Equal(SchedulingKit.Utc("2026-03-04T09:12:40.249398Z"), e.OccurredAt);
        Assert.Equal(InviteeUri, e.Booking!.BookingId);
        Assert.Equal("Travelling that week", e.Booking.CancelReason);
        Assert.Equal("invitee", e.Booking.CanceledBy);
        Assert.Equal("grace.hopper@example.com", e.Subject.Email);
    }

    [Fact]
    public void Reschedule_IsOneBookingRescheduled_FromTheCreatedHalf_AndTheCanceledHalfIsIgnored()
    {
        var canceledHalf = Invitee("invitee.canceled", status: "canceled", rescheduled: true, newInvitee: NewInviteeUri,
            cancellation: """{"canceled_by": "Grace Hopper", "reason": null, "canceler_type": "invitee", "created_at": "2026-03-04T09:12:40.249398Z"}""");
        var createdHalf = Invitee(uri: NewInviteeUri, eventUuid: NewEventUuid, createdAt: "2026-03-04T09:12:41.000000Z",
            start: "2026-03-12T14:00:00.000000Z", end: "2026-03-12T14:30:00.000000Z", oldInvitee: InviteeUri);

        var ignored = Assert.IsType<MapResult.Ignored>(Map(canceledHalf));
        var e = PaymentsKit.Single(Map(createdHalf));

        Assert.Contains("reschedule", ignored.Reason, StringComparison.Ordinal);
        Assert.Equal(EventTypes.BookingRescheduled, e.Type);
        Assert.Equal(NewInviteeUri, e.Booking!.BookingId);
        Assert.Equal(InviteeUri, e.Booking.RescheduledFrom);
        Assert.Equal(NewInviteeUri, e.Booking.RescheduledTo);
        Assert.Equal(SchedulingKit.Utc("2026-03-12T14:00:00Z"), e.Booking.StartsAt);
        Assert.Null(e.Booking.PreviousStartsAt);
        Assert.Equal("grace.hopper@example.com", e.Subject.Email);
    }

    [Fact]
    public void Reschedule_WithAnApiKey_FetchesTheOldMeeting_ForThePreviousStart()
    {
        var createdHalf = Invitee(uri: NewInviteeUri, eventUuid: NewEventUuid, start: "2026-03-12T14:00:00.000000Z", oldInvitee: InviteeUri);

        var need = Assert.IsType<MapResult.NeedsEnrichment>(Map(createdHalf, canEnrich: true));
        var e = PaymentsKit.Single(Map(createdHalf, canEnrich: true, previous: OldScheduledEvent));

        var request = Assert.Single(need.Requests);
        Assert.Equal("/scheduled_events/" + EventUuid, request.PathAndQuery);
        Assert.Equal(SchedulingKit.Utc("2026-03-06T15:00:00Z"), e.Booking!.PreviousStartsAt);
    }

    [Fact]
    public void NoShowAndOtherEvents_AreIgnored_NotQuarantined()
    {
        var noShow = """{"created_at": "2026-03-10T15:00:00.000000Z", "event": "invitee_no_show.created", "payload": {"uri": "https://api.calendly.com/invitee_no_shows/6ee96ed4", "invitee": "https://api.calendly.com/scheduled_events/x/invitees/y", "created_at": "2026-03-10T15:00:00.000000Z"}}""";

        var ignored = Assert.IsType<MapResult.Ignored>(Map(noShow));

        Assert.Equal("invitee_no_show.created", ignored.ProviderType);
    }

    [Fact]
    public void MissingStartTime_IsQuarantined_NamingTheField()
    {
        var body = Invitee().Replace("\"start_time\": \"2026-03-10T14:00:00.000000Z\",", "", StringComparison.Ordinal);

        var q = Assert.IsType<MapResult.Quarantined>(Map(body));

        Assert.StartsWith("payload.scheduled_event.start_time:", q.Reason, StringComparison.Ordinal);
    }
}
