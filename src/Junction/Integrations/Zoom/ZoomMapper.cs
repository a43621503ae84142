using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Zoom;

/// <summary>
/// Zoom webinar webhooks → canonical webinar events, by <c>event</c>. Shapes follow Zoom's event
/// reference (developers.zoom.us/docs/api/meetings/events) and its Rivet SDK types
/// (<c>WebinarParticipantJoinedEvent</c>, <c>WebinarParticipantLeftEvent</c>,
/// <c>WebinarRegistrationCreatedEvent</c>): <c>event_ts</c> in Unix milliseconds, the webinar in
/// <c>payload.object</c> (<c>id</c>, <c>uuid</c> of this occurrence, <c>topic</c>, <c>start_time</c>
/// in UTC, <c>timezone</c>), the person in <c>payload.object.participant</c> or
/// <c>payload.object.registrant</c>.
/// <list type="bullet">
/// <item><c>webinar.registration_created</c> → webinar.registered.</item>
/// <item><c>webinar.participant_left</c> → webinar.attended (live): the leave closes a stretch of
/// attendance, so it is the fact; <c>joined_at</c>/<c>duration_seconds</c> are filled when the
/// payload also carries <c>join_time</c>. A participant who drops and rejoins has one fact per
/// stretch (the key includes <c>leave_time</c>). The host's own leave is ignored.</item>
/// <item><c>webinar.participant_joined</c> → ignored: its leave is the fact.</item>
/// <item>Zoom has no webhook for watching a recording, so Zoom never yields attendance
/// <c>recording</c>; <c>recording.*</c> and <c>meeting.*</c> events are ignored.</item>
/// </list>
/// Guests may have no email: the participant is then known by <c>participant_user_id</c>/<c>id</c>
/// (customer id), <c>participant_uuid</c>/<c>user_id</c> (anonymous id) and <c>registrant_id</c>,
/// and is kept, not quarantined.
/// </summary>
public sealed class ZoomMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        if (!Mapping.TryJson(raw, "a Zoom event notification", out var root, out var problem)) return problem;
        var type = root.ValueKind == JsonValueKind.Object ? root.Str("event") : null;
        if (type is null) return new MapResult.Quarantined("event: required, expected a Zoom event name such as webinar.participant_left");
        return Mapping.Typed(type, () => MapType(raw, root, type));
    }

    private static MapResult MapType(RawInput raw, JsonElement root, string type)
    {
        switch (type)
        {
            case "webinar.registration_created":
            {
                var o = Object(root);
                var r = o.Path("registrant") is { ValueKind: JsonValueKind.Object } reg
                    ? reg
                    : throw new MappingException("payload.object.registrant: required, expected the registrant");
                var webinarId = o.RequiredStr("id");
                var registrantId = r.Str("id") is { Length: > 0 } rid ? rid : null;
                var email = r.Str("email");
                var key = registrantId ?? Identifiers.NormalizeEmail(email)
                    ?? throw new MappingException("payload.object.registrant.id: required when the registrant has no email");
                var e = raw.Event(EventTypes.WebinarRegistered, $"{EventTypes.WebinarRegistered}:{webinarId}:{key}", EventTime(root),
                    Subject.From(email, phone: r.Str("phone"), name: Name(r.Str("first_name"), r.Str("last_name"))), providerType: type);
                return Single(e with
                {
                    OriginalTimezone = Zone(o) ?? e.OriginalTimezone,
                    Webinar = Webinar(o, webinarId) with { RegistrantId = registrantId },
                });
            }
            case "webinar.participant_left":
            {
                var o = Object(root);
                var p = o.Path("participant") is { ValueKind: JsonValueKind.Object } part
                    ? part
                    : throw new MappingException("payload.object.participant: required, expected the participant who left");
                var webinarId = o.RequiredStr("id");
                var zoomUser = NonEmpty(p.Str("participant_user_id")) ?? NonEmpty(p.Str("id"));
                if (zoomUser is not null && zoomUser == NonEmpty(o.Str("host_id")))
                {
                    return new MapResult.Ignored("the webinar's host left; hosts are not attendees");
                }
                var left = p.Time("leave_time") ?? throw new MappingException("payload.object.participant.leave_time: required, expected an ISO-8601 time");
                var joined = p.Time("join_time");
                var session = NonEmpty(p.Str("participant_uuid")) ?? NonEmpty(p.Str("user_id"));
                var who = session ?? zoomUser ?? Identifiers.NormalizeEmail(p.Str("email")) ?? NonEmpty(p.Str("registrant_id"))
                    ?? throw new MappingException("payload.object.participant: expected at least one of participant_uuid, user_id, id, email or registrant_id");
                var occurrence = NonEmpty(o.Str("uuid")) ?? webinarId;
                var subject = Subject.From(p.Str("email"), zoomUser, phone: p.Str("phone_number"), name: p.Str("user_name")) with
                {
                    AnonymousId = session,
                };
                var e = raw.Event(EventTypes.WebinarAttended,
                    $"{EventTypes.WebinarAttended}:{occurrence}:{who}:{left.UtcDateTime.Ticks}", left, subject, providerType: type);
                return Single(e with
                {
                    OriginalTimezone = Zone(o) ?? e.OriginalTimezone,
                    Webinar = Webinar(o, webinarId) with
                    {
                        RegistrantId = NonEmpty(p.Str("registrant_id")),
                        Attendance = "live",
                        JoinedAt = joined?.ToUniversalTime(),
                        LeftAt = left.ToUniversalTime(),
                        DurationSeconds = joined is { } j && left >= j ? (long)(left - j).TotalSeconds : null,
                    },
                });
            }
            case "webinar.participant_joined":
                return new MapResult.Ignored("attendance is recorded from webinar.participant_left, which closes it");
            case ZoomProvider.UrlValidation:
                return new MapResult.Ignored("Zoom's URL validation is answered at intake, not an event");
            default:
                return new MapResult.Ignored(type.StartsWith("recording.", StringComparison.Ordinal)
                    ? $"Zoom event {type} is not attendance (Zoom sends no webhook for a recording being watched)"
                    : $"Zoom event {type} is not one Junction uses");
        }
    }

    private static JsonElement Object(JsonElement root) =>
        root.Path("payload.object") is { ValueKind: JsonValueKind.Object } o ? o : throw new MappingException("payload.object: required, expected the webinar");

    /// <summary><c>event_ts</c> is Unix milliseconds.</summary>
    private static DateTimeOffset EventTime(JsonElement root) =>
        root.UnixMilliseconds("event_ts") ?? throw new MappingException("event_ts: required, expected Unix milliseconds");

    private static WebinarInfo Webinar(JsonElement o, string webinarId) => new()
    {
        WebinarId = webinarId,
        OccurrenceId = NonEmpty(o.Str("uuid")),
        Topic = o.Str("topic"),
        StartsAt = o.Time("start_time")?.ToUniversalTime(),
        Timezone = Zone(o),
    };

    private static string? Zone(JsonElement o) => NonEmpty(o.Str("timezone"));

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string? Name(string? first, string? last) =>
        NonEmpty(string.Join(' ', new[] { first, last }.Where(x => !string.IsNullOrWhiteSpace(x))));

    private static MapResult.Mapped Single(CanonicalEvent e) => new([e]);
}
