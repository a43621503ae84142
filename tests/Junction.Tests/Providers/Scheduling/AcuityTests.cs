using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.Acuity;
using Junction.Tests.Providers.Payments;
using static Junction.Tests.Providers.Scheduling.AcuityFixtures;

namespace Junction.Tests.Providers.Scheduling;

public sealed class AcuityTests
{
    private const string ApiKey = "acuity_api_key_5f2c9d71e0";
    private static readonly AcuityProvider Provider = new();
    private const string FormType = "application/x-www-form-urlencoded";

    private static MapResult Map(string body, string? appointment = null, bool canEnrich = true) =>
        Provider.Mapper.Map(PaymentsKit.Raw("acuity", body, FormType, canEnrich: canEnrich,
            enrichment: appointment is null ? null : new Dictionary<string, string> { [AcuityMapper.AppointmentKey] = appointment }));

    private static SignatureCheck Verify(string body, string? header, params string[] secrets) =>
        Provider.Verify(header is null ? PaymentsKit.Request(body) : PaymentsKit.Request(body, null, ("X-Acuity-Signature", header)),
            secrets, TimeSpan.FromSeconds(300), PaymentsKit.Received);

    [Fact]
    public void Verify_AcceptsBase64HmacOfTheBodyWithTheApiKey_AndRefusesOthers()
    {
        var body = Webhook();

        Assert.True(Verify(body, SchedulingKit.Acuity(ApiKey, body), ApiKey).IsValid);
        Assert.True(Verify(body, SchedulingKit.Acuity(ApiKey, body), "old_key", ApiKey).IsValid);
        Assert.Equal(SignatureFailure.BadSignature, Verify(body, SchedulingKit.Acuity("other_key", body), ApiKey).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Verify(Webhook(id: "1089357782"), SchedulingKit.Acuity(ApiKey, body), ApiKey).Failure);
        Assert.Equal(SignatureFailure.MissingSignature, Verify(body, null, ApiKey).Failure);
    }

    [Fact]
    public void DedupKey_IsActionAndId_ForScheduledAndCanceled_AndPerDeliveryForReschedules()
    {
        Assert.Equal("scheduled:1089357781", Provider.DedupKey(PaymentsKit.Request(Webhook())));
        Assert.Equal("canceled:1089357781", Provider.DedupKey(PaymentsKit.Request(Webhook("canceled"))));
        Assert.Equal("scheduled:1089357781", Provider.DedupKey(PaymentsKit.Request(Webhook("appointment.scheduled"))));
        // Two reschedules of one appointment have identical bodies; neither may be lost as a duplicate.
        var first = Provider.DedupKey(PaymentsKit.Request(Webhook("rescheduled")));
        var second = Provider.DedupKey(PaymentsKit.Request(Webhook("rescheduled")));
        Assert.StartsWith("rescheduled:1089357781:", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Webhook_AsksForTheAppointment()
    {
        var need = Assert.IsType<MapResult.NeedsEnrichment>(Map(Webhook()));

        var request = Assert.Single(need.Requests);
        Assert.Equal(AcuityMapper.AppointmentKey, request.Key);
        Assert.Equal("/appointments/1089357781", request.PathAndQuery);
    }

    [Fact]
    public void Webhook_WithoutApiCredentials_IsQuarantined_NamingTheKeys()
    {
        var q = Assert.IsType<MapResult.Quarantined>(Map(Webhook(), canEnrich: false));

        Assert.Contains("user_id and api_key", q.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Scheduled_IsBookingCreated_FieldByField()
    {
        var e = PaymentsKit.Single(Map(Webhook(), Appointment()));

        Assert.Equal(EventTypes.BookingCreated, e.Type);
        Assert.Equal("scheduled", e.ProviderType);
        Assert.Equal(SchedulingKit.Utc("2026-03-02T18:05:12Z"), e.OccurredAt);
        Assert.Equal("America/New_York", e.OriginalTimezone);
        Assert.Equal("katherine.johnson@example.com", e.Subject.Email);
        Assert.Equal("Katherine Johnson", e.Subject.Name);
        Assert.Equal("+17575550123", e.Subject.Phone);
        var b = e.Booking!;
        Assert.Equal("1089357781", b.BookingId);
        Assert.Equal("5301342", b.EventType);
        Assert.Equal("Coaching Session", b.Name);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T14:00:00Z"), b.StartsAt);
        Assert.Equal(TimeSpan.Zero, b.StartsAt!.Value.Offset);
        Assert.Equal(SchedulingKit.Utc("2026-03-10T14:45:00Z"), b.EndsAt);
        Assert.Equal("America/New_York", b.Timezone);
        Assert.Equal(CanonicalEvent.MakeId("acuity-main", "booking.created:1089357781"), e.Id);
    }

    [Theory]
    [InlineData("2026-03-06T10:00:00-0500", "2026-03-06T15:00:00Z")]
    [InlineData("2026-03-10T10:00:00-0400", "2026-03-10T14:00:00Z")]
    [InlineData("2026-03-06T10:00:00-05:00", "2026-03-06T15:00:00Z")]
    // Without an offset the wall time is read in the appointment's zone, with that date's DST rule.
    [InlineData("2026-03-06T10:00:00", "2026-03-06T15:00:00Z")]
    [InlineData("2026-03-10T10:00:00", "2026-03-10T14:00:00Z")]
    public void AppointmentsInNewYork_EitherSideOfTheMarchDstSwitch_LandInTheRightUtc_WithTheZoneKept(string datetime, string utc)
    {
        var e = PaymentsKit.Single(Map(Webhook(), Appointment(datetime: datetime)));

        Assert.Equal(SchedulingKit.Utc(utc), e.Booking!.StartsAt);
        Assert.Equal("America/New_York", e.Booking.Timezone);
        Assert.Equal(10, SchedulingKit.Local(e.Booking.StartsAt!.Value, "America/New_York").Hour);
    }

    [Fact]
    public void Rescheduled_IsBookingRescheduled_KeyedByTheNewStart()
    {
        var first = PaymentsKit.Single(Map(Webhook("rescheduled"), Appointment(datetime: "2026-03-12T09:30:00-0400")));
        var second = PaymentsKit.Single(Map(Webhook("rescheduled"), Appointment(datetime: "2026-03-13T09:30:00-0400")));
        var retry = PaymentsKit.Single(Map(Webhook("rescheduled"), Appointment(datetime: "2026-03-13T09:30:00-0400")));

        Assert.Equal(EventTypes.BookingRescheduled, first.Type);
        Assert.Equal(SchedulingKit.Utc("2026-03-12T13:30:00Z"), first.Booking!.StartsAt);
        Assert.Equal("1089357781", first.Booking.RescheduledFrom);
        Assert.Equal("1089357781", first.Booking.RescheduledTo);
        Assert.Null(first.Booking.PreviousStartsAt);
        Assert.Equal(PaymentsKit.Received, first.OccurredAt);
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(second.Id, retry.Id);
    }

    [Fact]
    public void Canceled_IsBookingCanceled()
    {
        var e = PaymentsKit.Single(Map(Webhook("canceled"), Appointment(canceled: true)));

        Assert.Equal(EventTypes.BookingCanceled, e.Type);
        Assert.Equal("1089357781", e.Booking!.BookingId);
        Assert.Equal("katherine.johnson@example.com", e.Subject.Email);
    }

    [Theory]
    [InlineData("changed")]
    [InlineData("order.completed")]
    public void ChangedAndOrders_AreIgnored_WithoutAnApiCall(string action)
    {
        var ignored = Assert.IsType<MapResult.Ignored>(Map(Webhook(action)));

        Assert.Equal(action, ignored.ProviderType);
    }

    [Fact]
    public void MalformedInput_IsQuarantined_NamingTheField()
    {
        Assert.StartsWith("action:", Assert.IsType<MapResult.Quarantined>(Map("id=1")).Reason, StringComparison.Ordinal);
        Assert.StartsWith("id:", Assert.IsType<MapResult.Quarantined>(Map(Webhook(id: "abc"))).Reason, StringComparison.Ordinal);
        Assert.StartsWith("appointment.datetime:",
            Assert.IsType<MapResult.Quarantined>(Map(Webhook(), Appointment(datetime: "March 10, 2026"))).Reason, StringComparison.Ordinal);
    }
}
