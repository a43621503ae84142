using System.Globalization;
using System.Text;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Mailchimp;

/// <summary>
/// Mailchimp audience webhooks → canonical events, by <c>type</c> (sync-audience-data-webhooks guide;
/// field names as Mailchimp posts them: <c>data[email]</c>, <c>data[merges][FNAME]</c> …):
/// subscribe → optin; unsubscribe → unsubscribe, or spam_complaint when <c>data[reason]=abuse</c>;
/// cleaned with <c>data[reason]=abuse</c> → spam_complaint, a hard bounce is ignored (the address is
/// undeliverable, but nobody withdrew consent; Mailchimp has already stopped sending to it);
/// upemail → email.changed (<c>data[old_email]</c> → <c>data[new_email]</c>); profile and campaign
/// are ignored. <c>fired_at</c> is <c>YYYY-MM-DD HH:MM:SS</c> in UTC.
/// </summary>
public sealed class MailchimpMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        var body = Encoding.UTF8.GetString(raw.Body);
        if (body.TrimStart().StartsWith('{') || body.TrimStart().StartsWith('['))
        {
            return new MapResult.Quarantined("body: expected Mailchimp's form-encoded fields (type=…&fired_at=…&data[…]=…), got JSON");
        }
        var f = FormBody.Parse(body);
        var type = Get(f, "type");
        if (type is null) return new MapResult.Quarantined("type: required, expected subscribe, unsubscribe, profile, upemail, cleaned or campaign");
        return Mapping.Typed(type, () => MapType(raw, f, type));
    }

    private static MapResult MapType(RawInput raw, Dictionary<string, string> f, string type)
    {
        switch (type)
        {
            case "subscribe":
            {
                var at = FiredAt(f);
                var list = Get(f, "data[list_id]");
                var e = raw.Event(EventTypes.Optin, Fact(EventTypes.Optin, type, f), at, MemberSubject(f), providerType: type) with
                {
                    Consent =
                    [
                        new ConsentInfo
                        {
                            Channel = "email",
                            Granted = true,
                            Source = Source(list),
                            At = at,
                            // ip_opt is where the subscriber confirmed a double opt-in; absent when no confirmation happened.
                            Confirmed = Get(f, "data[ip_opt]") is null ? null : true,
                        },
                    ],
                    Tags = list is null ? [] : [list],
                };
                return new MapResult.Mapped([e]);
            }
            case "unsubscribe":
            {
                var at = FiredAt(f);
                var reason = Get(f, "data[reason]");
                var canonical = reason == "abuse" ? EventTypes.SpamComplaint : EventTypes.Unsubscribe;
                return new MapResult.Mapped([Withdrawn(raw, canonical, type, f, at)]);
            }
            case "cleaned":
            {
                var at = FiredAt(f);
                var reason = Get(f, "data[reason]");
                return reason == "abuse"
                    ? new MapResult.Mapped([Withdrawn(raw, EventTypes.SpamComplaint, type, f, at)])
                    : new MapResult.Ignored($"Mailchimp cleaned the address ({reason ?? "no reason"}): a bounce is deliverability, not consent");
            }
            case "upemail":
            {
                var at = FiredAt(f);
                var newEmail = Get(f, "data[new_email]") ?? throw new MappingException("data[new_email]: required, expected the new address");
                var oldEmail = Get(f, "data[old_email]") ?? throw new MappingException("data[old_email]: required, expected the previous address");
                var subject = Subject.From(newEmail, Get(f, "data[new_id]")) with { PreviousEmail = Identifiers.NormalizeEmail(oldEmail) };
                var e = raw.Event(EventTypes.EmailChanged, Fact(EventTypes.EmailChanged, type, f), at, subject, providerType: type);
                return new MapResult.Mapped([e]);
            }
            case "profile":
                return new MapResult.Ignored("Mailchimp profile updates change merge fields only: no consent, address or tag Junction tracks");
            case "campaign":
                return new MapResult.Ignored("Mailchimp campaign sending is not about a person");
            default:
                return new MapResult.Ignored($"Mailchimp {type} is not an event Junction uses");
        }
    }

    private static CanonicalEvent Withdrawn(RawInput raw, string canonical, string type, Dictionary<string, string> f, DateTimeOffset at) =>
        raw.Event(canonical, Fact(canonical, type, f), at, MemberSubject(f), providerType: type) with
        {
            Consent = [new ConsentInfo { Channel = "email", Granted = false, Source = Source(Get(f, "data[list_id]")), At = at }],
        };

    private static string Source(string? list) => list is null ? "mailchimp" : $"mailchimp list {list}";

    private static string Fact(string canonical, string type, Dictionary<string, string> f) =>
        $"{canonical}:{type}:{Get(f, "data[list_id]")}:{Member(f)}:{Get(f, "fired_at")}";

    private static Subject MemberSubject(Dictionary<string, string> f)
    {
        var email = Get(f, "data[email]") ?? Get(f, "data[merges][EMAIL]");
        var name = string.Join(' ', new[] { Get(f, "data[merges][FNAME]"), Get(f, "data[merges][LNAME]") }.Where(n => n is not null));
        return Subject.From(email, Get(f, "data[id]"), phone: Get(f, "data[merges][PHONE]"), name: name);
    }

    private static DateTimeOffset FiredAt(Dictionary<string, string> f)
    {
        var text = Get(f, "fired_at") ?? throw new MappingException("fired_at: required, expected 'YYYY-MM-DD HH:MM:SS' (UTC)");
        return DateTime.TryParseExact(text, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
            ? new DateTimeOffset(t, TimeSpan.Zero)
            : throw new MappingException($"fired_at: expected 'YYYY-MM-DD HH:MM:SS' (UTC); got '{text}'");
    }

    internal static string? Member(IReadOnlyDictionary<string, string> f) =>
        Get(f, "data[id]") ?? Get(f, "data[new_id]") ?? Identifiers.NormalizeEmail(Get(f, "data[email]") ?? Get(f, "data[old_email]"));

    internal static string? Get(IReadOnlyDictionary<string, string> f, string key) =>
        f.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
}
