using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Acuity;

/// <summary>
/// Acuity Scheduling webhooks → canonical bookings. The webhook (developers.acuityscheduling.com/docs/webhooks)
/// names only the action and the appointment id; the appointment (docs "GET /appointments/:id":
/// <c>email</c>, <c>firstName</c>, <c>lastName</c>, <c>phone</c>, <c>datetime</c> with its offset
/// such as <c>2013-07-02T10:15:00-0700</c>, <c>duration</c> in minutes, <c>timezone</c> as an IANA
/// name, <c>type</c>, <c>appointmentTypeID</c>) is fetched as enrichment under
/// <see cref="AppointmentKey"/>.
/// <list type="bullet">
/// <item><c>scheduled</c> → booking.created, <c>canceled</c> → booking.canceled.</item>
/// <item><c>rescheduled</c> → booking.rescheduled. Acuity keeps the appointment id across a
/// reschedule, so from and to are the same booking; the API gives only the new time, so the
/// previous start is unknown. The fact key carries the new start: two reschedules are two facts.</item>
/// <item><c>changed</c> → ignored: Acuity's catch-all that repeats scheduled/rescheduled/canceled
/// and also fires on form edits, which Junction has no fact for.</item>
/// </list>
/// Dynamic webhooks name the same actions as <c>appointment.scheduled</c> …; both spellings are read.
/// </summary>
public sealed partial class AcuityMapper : IPayloadMapper
{
    public const string AppointmentKey = "appointment";

    public MapResult Map(RawInput raw)
    {
        var form = raw.Form();
        if (!form.TryGetValue("action", out var rawAction) || rawAction.Length == 0)
        {
            return new MapResult.Quarantined("action: required, expected a form field such as action=scheduled");
        }
        var action = Action(rawAction);
        return Mapping.Typed(action, () => MapAction(raw, form, action));
    }

    internal static string Action(string action) =>
        action.StartsWith("appointment.", StringComparison.Ordinal) ? action["appointment.".Length..] : action;

    private static MapResult MapAction(RawInput raw, IReadOnlyDictionary<string, string> form, string action)
    {
        if (action is not ("scheduled" or "rescheduled" or "canceled"))
        {
            return new MapResult.Ignored(action == "changed"
                ? "changed is Acuity's catch-all; scheduled, rescheduled and canceled are mapped from their own webhooks"
                : $"Acuity action {action} is not one Junction uses");
        }
        if (!form.TryGetValue("id", out var id) || !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new MappingException($"id: required, expected the numeric appointment id; got '{(form.TryGetValue("id", out var bad) ? bad : "")}'");
        }
        if (!raw.Enrichment.TryGetValue(AppointmentKey, out var a))
        {
            return raw.CanEnrich
                ? new MapResult.NeedsEnrichment([new EnrichmentRequest(AppointmentKey, $"/appointments/{id}")])
                : new MapResult.Quarantined(
                    $"sources.{raw.Source}: user_id and api_key are required; an Acuity webhook carries only the appointment id ({id}), its details come from GET /appointments/{id}");
        }
        if (a.Str("id") is { } fetched && fetched != id)
        {
            throw new MappingException($"appointment.id: expected {id} as named by the webhook; got {fetched}");
        }

        var timezone = a.Str("timezone") is { Length: > 0 } tz ? tz : null;
        var startsAt = Start(a, timezone);
        var minutes = a.Whole("duration");
        var canonical = action switch
        {
            "scheduled" => EventTypes.BookingCreated,
            "rescheduled" => EventTypes.BookingRescheduled,
            _ => EventTypes.BookingCanceled,
        };
        var factKey = action == "rescheduled"
            ? $"{canonical}:{id}:{startsAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}"
            : $"{canonical}:{id}";
        // The webhook carries no time: a booking happened when Acuity created it; a reschedule or
        // cancel when it reached Junction (stored with the raw event, so a rebuild gives the same).
        var occurred = action == "scheduled" ? Offset(a, "datetimeCreated") ?? raw.ReceivedAt : raw.ReceivedAt;
        var name = string.Join(' ', new[] { a.Str("firstName"), a.Str("lastName") }.Where(x => !string.IsNullOrWhiteSpace(x)));
        var e = raw.Event(canonical, factKey, occurred, Subject.From(a.Str("email"), phone: a.Str("phone"), name: name), providerType: action);
        return new MapResult.Mapped([e with
        {
            OriginalTimezone = timezone ?? e.OriginalTimezone,
            Booking = new BookingInfo
            {
                BookingId = id,
                EventType = a.Str("appointmentTypeID") ?? (form.TryGetValue("appointmentTypeID", out var t) ? t : null),
                Name = a.Str("type"),
                StartsAt = startsAt.ToUniversalTime(),
                EndsAt = minutes is { } m ? startsAt.ToUniversalTime().AddMinutes(m) : null,
                Timezone = timezone,
                RescheduledFrom = action == "rescheduled" ? id : null,
                RescheduledTo = action == "rescheduled" ? id : null,
            },
        }]);
    }

    /// <summary>
    /// <c>datetime</c> with its offset (<c>-0700</c> or <c>-07:00</c>). Without an offset it is wall
    /// time in <c>timezone</c>, converted with that zone's rules for the date (DST included).
    /// </summary>
    private static DateTimeOffset Start(JsonElement a, string? timezone)
    {
        if (Offset(a, "datetime") is { } withOffset) return withOffset;
        var text = a.Str("datetime") ?? throw new MappingException("appointment.datetime: required, expected an ISO-8601 time such as 2026-03-10T10:00:00-0400");
        if (!DateTime.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            throw new MappingException($"appointment.datetime: expected an ISO-8601 time such as 2026-03-10T10:00:00-0400; got '{text}'");
        }
        if (timezone is null || !TimeZoneInfo.TryFindSystemTimeZoneById(timezone, out var zone))
        {
            throw new MappingException($"appointment.timezone: expected an IANA time zone for a datetime without offset; got '{timezone}'");
        }
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>A time that carries its offset, or null when the field is absent or has none.</summary>
    private static DateTimeOffset? Offset(JsonElement a, string field)
    {
        var text = a.Str(field);
        if (text is null) return null;
        var m = OffsetTime().Match(text);
        if (!m.Success) return null;
        var normalized = m.Groups["offset"].Value is "Z" or "z" ? m.Groups["time"].Value + "+00:00"
            : m.Groups["time"].Value + m.Groups["offset"].Value[..3] + ":" + m.Groups["offset"].Value[^2..];
        return DateTimeOffset.TryParseExact(normalized, "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
            ? t
            : throw new MappingException($"appointment.{field}: expected an ISO-8601 time such as 2026-03-10T10:00:00-0400; got '{text}'");
    }

    [GeneratedRegex(@"^(?<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(?<offset>Z|z|[+-]\d{2}:?\d{2})$")]
    private static partial Regex OffsetTime();
}
