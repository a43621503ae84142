namespace Junction.Tests.Providers.Scheduling;

/// <summary>
/// Zoom event notifications shaped like Zoom's webhook reference and Rivet types
/// (WebinarRegistrationCreatedEvent, WebinarParticipantJoinedEvent/LeftEvent): <c>event_ts</c> in
/// Unix milliseconds, the webinar in <c>payload.object</c>.
/// </summary>
internal static class ZoomFixtures
{
    public const string WebinarId = "95204914252";
    public const string WebinarUuid = "4444AAAiAAAAAiAiAiiAii==";
    public const string HostId = "z8yCxjabcdEFGHfp8uQ";

    public static string RegistrationCreated(string email = "Dorothy.Vaughan@Example.com", long eventTs = 1_772_900_000_123) => $$"""
        {
          "event": "webinar.registration_created",
          "event_ts": {{eventTs}},
          "payload": {
            "account_id": "AAAAAABBBB",
            "operator": "dorothy.vaughan@example.com",
            "operator_id": "",
            "object": {
              "id": "{{WebinarId}}",
              "uuid": "{{WebinarUuid}}",
              "host_id": "{{HostId}}",
              "topic": "Spring Launch Masterclass",
              "type": 5,
              "start_time": "2026-03-10T18:00:00Z",
              "duration": 90,
              "timezone": "America/New_York",
              "registrant": {
                "id": "abcdefghij0-klmnopq23456",
                "first_name": "Dorothy",
                "last_name": "Vaughan",
                "email": "{{email}}",
                "address": "",
                "city": "Hampton",
                "country": "US",
                "zip": "23666",
                "state": "VA",
                "phone": "+1 757 555 0188",
                "industry": "",
                "org": "",
                "job_title": "",
                "purchasing_time_frame": "",
                "role_in_purchase_process": "",
                "no_of_employees": "",
                "comments": "",
                "custom_questions": [{"title": "How did you hear about us?", "value": "Newsletter"}],
                "status": "approved",
                "join_url": "https://example.zoom.us/w/95204914252?tk=abc",
                "participant_pin_code": 380303
              }
            }
          }
        }
        """;

    public static string Participant(
        string eventName = "webinar.participant_left",
        string email = "dorothy.vaughan@example.com",
        string participantUserId = "iFxeBPYun6SAiWUzBcEkX",
        string participantUuid = "5WXWGCK6RaGD2hyrvg5tCg",
        string userId = "16778240",
        string registrantId = "abcdefghij0-klmnopq23456",
        string? joinTime = "2026-03-10T18:02:10Z",
        string leaveTime = "2026-03-10T19:17:40Z",
        long eventTs = 1_773_166_660_000) => $$"""
        {
          "event": "{{eventName}}",
          "event_ts": {{eventTs}},
          "payload": {
            "account_id": "AAAAAABBBB",
            "object": {
              "id": "{{WebinarId}}",
              "uuid": "{{WebinarUuid}}",
              "host_id": "{{HostId}}",
              "topic": "Spring Launch Masterclass",
              "type": 5,
              "start_time": "2026-03-10T18:00:00Z",
              "timezone": "America/New_York",
              "duration": 90,
              "participant": {
                "user_id": "{{userId}}",
                "user_name": "Dorothy Vaughan",
                "id": "{{participantUserId}}",
                "participant_uuid": "{{participantUuid}}",
                {{(eventName.EndsWith("left", StringComparison.Ordinal) ? $"\"leave_time\": \"{leaveTime}\", \"leave_reason\": \"left the webinar.<br>Reason : Host ended the webinar.\"," : "")}}
                {{(joinTime is null ? "" : $"\"join_time\": \"{joinTime}\",")}}
                "email": "{{email}}",
                "registrant_id": "{{registrantId}}",
                "participant_user_id": "{{participantUserId}}",
                "customer_key": "",
                "phone_number": ""
              }
            }
          }
        }
        """;

    public static string UrlValidation(string plainToken = "qgg8vlvZRS6UYooatFL8Aw") => $$"""
        {"payload": {"plainToken": "{{plainToken}}"}, "event_ts": 1654503849680, "event": "endpoint.url_validation"}
        """;

    public const string RecordingCompleted = """
        {"event": "recording.completed", "event_ts": 1773170000000, "payload": {"account_id": "AAAAAABBBB", "object": {"id": 95204914252, "uuid": "4444AAAiAAAAAiAiAiiAii==", "host_id": "z8yCxjabcdEFGHfp8uQ", "topic": "Spring Launch Masterclass", "type": 5, "start_time": "2026-03-10T18:00:00Z", "timezone": "America/New_York", "duration": 90, "share_url": "https://example.zoom.us/rec/share/abc", "recording_files": []}}}
        """;
}
