using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Calendly;

/// <summary>
/// Calendly webhook events → canonical bookings, by <c>event</c>. Follows the invitee payload of
/// developer.calendly.com (webhook payload and "see how webhook payloads change when invitees
/// reschedule events"): the invitee at the top of <c>payload</c>, the meeting under
/// <c>payload.scheduled_event</c> with <c>start_time</c>/<c>end_time</c> in UTC, the invitee's IANA
/// zone in <c>payload.timezone</c>, UTM parameters under <c>payload.tracking</c>.
/// <para>
/// A reschedule fires two webhooks: <c>invitee.canceled</c> for the old invitee (<c>rescheduled:
/// true</c>, <c>new_invitee</c>) and <c>invitee.created</c> for the new one (<c>old_invitee</c>).
/// It is one fact: <c>booking.rescheduled</c>, asserted by the created half, which carries the new
/// time, the person and their tracking; the canceled half is ignored so that a reschedule is never
/// mistaken for a cancellation. The old start time is only in the old booking: with an
/// <c>api_key</c> it is fetched (<c>GET /scheduled_events/{uuid}</c> of the old invitee's event)
/// into <c>previous_starts_at</c>; without one it stays null.
/// </para>
/// </summary>
public sealed class CalendlyMapper : IPayloadMapper
{
    public const string PreviousEventKey = "previous_event";

    public MapResult Map(RawInput raw)
    {
        if (!Mapping.TryJson(raw, "a Calendly webhook event", out var root, out var problem)) return problem;
        var type = root.ValueKind == JsonValueKind.Object ? root.Str("event") : null;
        if (type is null) return new MapResult.Quarantined("event: required, expected a Calendly event name such as invitee.created");
        return Mapping.Typed(type, () => MapType(raw, root, type));
    }

    private static MapResult MapType(RawInput raw, JsonElement root, string type)
    {
        switch (type)
        {
            case "invitee.created":
            {
                var p = Payload(root);
                var uri = p.RequiredStr("uri");
                var old = p.Str("old_invitee");
                if (old is null)
                {
                    return Single(Booking(raw, root, p, EventTypes.BookingCreated, $"{EventTypes.BookingCreated}:{uri}", type));
                }
                if (raw.CanEnrich && !raw.Enrichment.ContainsKey(PreviousEventKey) && ScheduledEventPath(old) is { } path)
                {
                    return new MapResult.NeedsEnrichment([new EnrichmentRequest(PreviousEventKey, path)]);
                }
                var previous = raw.Enrichment.TryGetValue(PreviousEventKey, out var prev) ? prev.Time("resource.start_time") : null;
                var e = Booking(raw, root, p, EventTypes.BookingRescheduled, $"{EventTypes.BookingRescheduled}:{uri}", type);
                return Single(e with
                {
                    Booking = e.Booking! with { RescheduledFrom = old, RescheduledTo = uri, PreviousStartsAt = previous?.ToUniversalTime() },
                });
            }
            case "invitee.canceled":
            {
                var p = Payload(root);
                var uri = p.RequiredStr("uri");
                if (p.Bool("rescheduled") == true || p.Str("new_invitee") is { Length: > 0 })
                {
                    return new MapResult.Ignored(
                        $"the cancel half of a reschedule (new invitee {p.Str("new_invitee") ?? "not named"}); the reschedule is one booking.rescheduled, from the new invitee's invitee.created");
                }
                var cancellation = p.Path("cancellation") ?? p.Path("scheduled_event.cancellation");
                var e = Booking(raw, root, p, EventTypes.BookingCanceled, $"{EventTypes.BookingCanceled}:{uri}", type,
                    cancellation?.Time("created_at"));
                return Single(e with
                {
                    Booking = e.Booking! with
                    {
                        CancelReason = cancellation?.Str("reason") is { Length: > 0 } reason ? reason : null,
                        CanceledBy = cancellation?.Str("canceler_type"),
                    },
                });
            }
            default:
                // invitee_no_show.*, routing_form_submission.created, event_type.* …
                return new MapResult.Ignored($"Calendly event {type} is not one Junction uses");
        }
    }

    private static JsonElement Payload(JsonElement root) =>
        root.Path("payload") is { ValueKind: JsonValueKind.Object } p ? p : throw new MappingException("payload: required, expected the invitee object");

    private static CanonicalEvent Booking(RawInput raw, JsonElement root, JsonElement p, string canonical, string factKey, string type, DateTimeOffset? at = null)
    {
        var ev = p.Path("scheduled_event") is { ValueKind: JsonValueKind.Object } s
            ? s
            : throw new MappingException("payload.scheduled_event: required, expected the booked meeting");
        var startsAt = ev.Time("start_time") ?? throw new MappingException("payload.scheduled_event.start_time: required, expected an ISO-8601 time");
        var occurred = at ?? root.Time("created_at") ?? p.Time("updated_at")
            ?? throw new MappingException("created_at: required, expected an ISO-8601 time");
        var timezone = p.Str("timezone") is { Length: > 0 } tz ? tz : null;
        var name = p.Str("name") is { Length: > 0 } n ? n : string.Join(' ', new[] { p.Str("first_name"), p.Str("last_name") }.Where(x => !string.IsNullOrWhiteSpace(x)));
        var e = raw.Event(canonical, factKey, occurred,
            Subject.From(p.Str("email"), phone: p.Str("text_reminder_number"), name: name), providerType: type);
        return e with
        {
            OriginalTimezone = timezone ?? e.OriginalTimezone,
            Attribution = AttributionParser.FromValues(p.StringMap("tracking")),
            Booking = new BookingInfo
            {
                BookingId = p.RequiredStr("uri"),
                EventType = ev.Str("event_type"),
                Name = ev.Str("name"),
                StartsAt = startsAt.ToUniversalTime(),
                EndsAt = ev.Time("end_time")?.ToUniversalTime(),
                Timezone = timezone,
            },
        };
    }

    /// <summary>
    /// <c>/scheduled_events/{uuid}</c> from an invitee URI
    /// (<c>https://api.calendly.com/scheduled_events/{uuid}/invitees/{uuid}</c>), relative so the
    /// source's <c>api_base_url</c> applies.
    /// </summary>
    internal static string? ScheduledEventPath(string inviteeUri)
    {
        if (!Uri.TryCreate(inviteeUri, UriKind.Absolute, out var uri)) return null;
        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.IndexOf(segments, "scheduled_events");
        return at >= 0 && at + 1 < segments.Length ? $"/scheduled_events/{Uri.EscapeDataString(segments[at + 1])}" : null;
    }

    private static MapResult.Mapped Single(CanonicalEvent e) => new([e]);
}
