using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Import;

/// <summary>
/// An imported row → its canonical events, all <see cref="CanonicalEvent.Historical"/>:
/// subscribed → one <c>optin</c> carrying the consent (at its time) and the tags; unsubscribed →
/// <c>unsubscribe</c>, plus <c>tag.added</c> for its tags; consent not stated → <c>tag.added</c>
/// (with no tags when the row has none, so the person is known with their email and name).
/// </summary>
public sealed class ImportMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        ImportRecord? row;
        try
        {
            row = JsonSerializer.Deserialize(raw.Body, ImportJson.Default.ImportRecord);
        }
        catch (JsonException ex)
        {
            return new MapResult.Quarantined($"body: expected an imported row as `junction import` stores it ({ex.Message})");
        }
        if (row is null) return new MapResult.Quarantined("body: expected an imported row, got null");
        var providerType = row.Format + ".row";
        if (Identifiers.NormalizeEmail(row.Email) is not { } email)
        {
            return new MapResult.Quarantined("email: expected an email address") { ProviderType = providerType };
        }
        var subject = new Subject { Email = email, EmailRaw = row.Email, Name = row.Name, Phone = row.Phone };
        var consentAt = row.ConsentedAt ?? row.CreatedAt ?? raw.ReceivedAt;
        var tagsAt = row.CreatedAt ?? consentAt;
        var events = new List<CanonicalEvent>(2);

        CanonicalEvent Make(string type, DateTimeOffset at) =>
            raw.Event(type, "import:" + raw.DedupKey + ":" + type, at, subject, providerType: providerType) with { Historical = true, ImportedFrom = row.Format };

        if (row.ConsentEmail is true)
        {
            events.Add(Make(EventTypes.Optin, consentAt) with
            {
                Consent = [new ConsentInfo { Channel = "email", Granted = true, At = consentAt.ToUniversalTime(), Source = raw.Source, Confirmed = row.Confirmed }],
                Tags = row.Tags,
            });
        }
        else
        {
            if (row.ConsentEmail is false)
            {
                events.Add(Make(EventTypes.Unsubscribe, consentAt) with
                {
                    Consent = [new ConsentInfo { Channel = "email", Granted = false, At = consentAt.ToUniversalTime(), Source = raw.Source }],
                });
            }
            if (row.Tags.Count > 0 || row.ConsentEmail is null) events.Add(Make(EventTypes.TagAdded, tagsAt) with { Tags = row.Tags });
        }
        return new MapResult.Mapped(events) { ProviderType = providerType };
    }
}
