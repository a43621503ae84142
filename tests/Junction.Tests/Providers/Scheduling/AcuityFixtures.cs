namespace Junction.Tests.Providers.Scheduling;

/// <summary>
/// Acuity Scheduling: the webhook form body (developers.acuityscheduling.com/docs/webhooks) and the
/// appointment from GET /appointments/:id, shaped like Acuity's documented example.
/// </summary>
internal static class AcuityFixtures
{
    public static string Webhook(string action = "scheduled", string id = "1089357781") =>
        SchedulingKit.Form(("action", action), ("id", id), ("calendarID", "27238"), ("appointmentTypeID", "5301342"));

    public static string Appointment(
        string id = "1089357781",
        string datetime = "2026-03-10T10:00:00-0400",
        string timezone = "America/New_York",
        string duration = "45",
        string email = "Katherine.Johnson@Example.com",
        string phone = "+1 (757) 555-0123",
        bool canceled = false) => $$"""
        {
          "id": {{id}},
          "firstName": "Katherine",
          "lastName": "Johnson",
          "phone": "{{phone}}",
          "email": "{{email}}",
          "date": "March 10, 2026",
          "time": "10:00am",
          "endTime": "10:45am",
          "dateCreated": "March 2, 2026",
          "datetimeCreated": "2026-03-02T13:05:12-0500",
          "datetime": "{{datetime}}",
          "price": "150.00",
          "priceSold": "150.00",
          "paid": "yes",
          "amountPaid": "150.00",
          "type": "Coaching Session",
          "appointmentTypeID": 5301342,
          "classID": null,
          "addonIDs": [],
          "category": "Coaching",
          "duration": "{{duration}}",
          "calendar": "Main Calendar",
          "calendarID": 27238,
          "certificate": null,
          "confirmationPage": "https://app.acuityscheduling.com/schedule.php?owner=11145481&action=appt&id%5B%5D=1220aa9f41091c50c0cc659385cfa1d0",
          "location": "",
          "notes": "",
          "timezone": "{{timezone}}",
          "calendarTimezone": "America/Chicago",
          "canceled": {{(canceled ? "true" : "false")}},
          "canClientCancel": true,
          "canClientReschedule": true,
          "labels": null,
          "forms": [{"id": 1, "name": "Intake", "values": [{"id": 21502993, "fieldID": 1, "value": "yes", "name": "First session?"}]}],
          "formsText": "Name: Katherine Johnson\n",
          "isVerified": false,
          "scheduledBy": null
        }
        """;
}
