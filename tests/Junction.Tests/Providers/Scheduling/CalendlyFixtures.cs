namespace Junction.Tests.Providers.Scheduling;

/// <summary>
/// Calendly webhook bodies shaped like developer.calendly.com's invitee payload (webhook payload
/// reference and the reschedule guide): the invitee at the top of <c>payload</c>, the meeting in
/// <c>scheduled_event</c>, times in UTC with microseconds.
/// </summary>
internal static class CalendlyFixtures
{
    public const string EventUuid = "e3b3306c-64f8-4519-b7f1-c26332384860";
    public const string InviteeUuid = "b11d9641-9974-4853-9ed4-6a3d4195df55";
    public const string InviteeUri = "https://api.calendly.com/scheduled_events/" + EventUuid + "/invitees/" + InviteeUuid;
    public const string NewEventUuid = "d4482d2a-82af-4941-9824-46d4db1d260b";
    public const string NewInviteeUri = "https://api.calendly.com/scheduled_events/" + NewEventUuid + "/invitees/720fe0b5-cf01-41b8-9588-a3cc3ee57ec7";
    public const string EventTypeUri = "https://api.calendly.com/event_types/GFH3KADHMS65FY6I";

    public static string Invitee(
        string eventName = "invitee.created",
        string uri = InviteeUri,
        string eventUuid = EventUuid,
        string createdAt = "2026-03-02T18:00:04.000000Z",
        string start = "2026-03-10T14:00:00.000000Z",
        string end = "2026-03-10T14:30:00.000000Z",
        string timezone = "America/New_York",
        string status = "active",
        bool rescheduled = false,
        string? oldInvitee = null,
        string? newInvitee = null,
        string? cancellation = null,
        string email = "Grace.Hopper@Example.com",
        string phone = "+1 212-555-0147",
        string utmSource = "newsletter") => $$"""
        {
          "created_at": "{{createdAt}}",
          "created_by": "https://api.calendly.com/users/DAFCF2NURDMV5C6T",
          "event": "{{eventName}}",
          "payload": {
            "cancel_url": "https://calendly.com/cancellations/{{InviteeUuid}}",
            {{(cancellation is null ? "" : $"\"cancellation\": {cancellation},")}}
            "created_at": "2026-03-02T18:00:02.818274Z",
            "email": "{{email}}",
            "event": "https://api.calendly.com/scheduled_events/{{eventUuid}}",
            "first_name": "Grace",
            "last_name": "Hopper",
            "name": "Grace Hopper",
            "new_invitee": {{(newInvitee is null ? "null" : $"\"{newInvitee}\"")}},
            "no_show": null,
            "old_invitee": {{(oldInvitee is null ? "null" : $"\"{oldInvitee}\"")}},
            "payment": null,
            "questions_and_answers": [{"answer": "Launch planning", "position": 0, "question": "What should we cover?"}],
            "reconfirmation": null,
            "reschedule_url": "https://calendly.com/reschedulings/{{InviteeUuid}}",
            "rescheduled": {{(rescheduled ? "true" : "false")}},
            "routing_form_submission": null,
            "scheduled_event": {
              "created_at": "2026-03-02T18:00:02.792692Z",
              "end_time": "{{end}}",
              "event_guests": [],
              "event_memberships": [{"user": "https://api.calendly.com/users/10293e66-c87b-4fdd-be08-c170183f7a0a", "user_email": "coach@example.com"}],
              "event_type": "{{EventTypeUri}}",
              "invitees_counter": {"total": 1, "active": 1, "limit": 1},
              "location": {"join_url": "https://example.zoom.us/j/82821007489", "status": "pushed", "type": "zoom"},
              "name": "Strategy Call",
              "start_time": "{{start}}",
              "status": "{{status}}",
              "updated_at": "2026-03-02T18:00:02.792692Z",
              "uri": "https://api.calendly.com/scheduled_events/{{eventUuid}}"
            },
            "status": "{{status}}",
            "text_reminder_number": "{{phone}}",
            "timezone": "{{timezone}}",
            "tracking": {
              "utm_campaign": "spring-launch",
              "utm_source": "{{utmSource}}",
              "utm_medium": "email",
              "utm_content": null,
              "utm_term": null,
              "salesforce_uuid": null
            },
            "updated_at": "2026-03-02T18:00:02.818274Z",
            "uri": "{{uri}}"
          }
        }
        """;

    /// <summary>GET /scheduled_events/{uuid} (Calendly API v2): the old meeting of a reschedule.</summary>
    public const string OldScheduledEvent = """
        {"resource": {"uri": "https://api.calendly.com/scheduled_events/e3b3306c-64f8-4519-b7f1-c26332384860", "name": "Strategy Call", "status": "canceled",
                      "start_time": "2026-03-06T15:00:00.000000Z", "end_time": "2026-03-06T15:30:00.000000Z",
                      "event_type": "https://api.calendly.com/event_types/GFH3KADHMS65FY6I", "location": {"type": "zoom"},
                      "invitees_counter": {"total": 1, "active": 0, "limit": 1},
                      "created_at": "2026-03-02T18:00:02.792692Z", "updated_at": "2026-03-04T09:12:40.000000Z",
                      "event_memberships": [{"user": "https://api.calendly.com/users/10293e66-c87b-4fdd-be08-c170183f7a0a"}], "event_guests": []}}
        """;
}
