using System.Globalization;
using System.Text;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.ActiveCampaign;

/// <summary>
/// ActiveCampaign webhooks → canonical events, by <c>type</c> (developers.activecampaign.com/page/webhooks:
/// each chosen field is a POST parameter — <c>date_time</c>, <c>initiated_by</c>, <c>list</c>,
/// <c>contact[id|email|first_name|last_name|phone|tags]</c>, <c>tag</c> on tag events):
/// subscribe → optin; unsubscribe → unsubscribe (email), sms_unsub → unsubscribe (sms);
/// contact_tag_added / contact_tag_removed → tag.added / tag.removed with <c>tag</c>; everything else,
/// including <c>update</c> (which names no previous address), is ignored. <c>date_time</c> is ISO-8601
/// with the account's offset (kept as original_timezone); a time without an offset is read as UTC.
/// </summary>
public sealed class ActiveCampaignMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        var body = Encoding.UTF8.GetString(raw.Body);
        if (body.TrimStart().StartsWith('{') || body.TrimStart().StartsWith('['))
        {
            return new MapResult.Quarantined("body: expected ActiveCampaign's form-encoded fields (type=…&date_time=…&contact[…]=…), got JSON");
        }
        var f = FormBody.Parse(body);
        var type = Get(f, "type");
        if (type is null) return new MapResult.Quarantined("type: required, expected the webhook event (subscribe, unsubscribe, contact_tag_added …)");
        return Mapping.Typed(type, () => MapType(raw, f, type));
    }

    private static MapResult MapType(RawInput raw, Dictionary<string, string> f, string type)
    {
        switch (type)
        {
            case "subscribe":
            {
                var at = DateTimeField(f);
                var list = Get(f, "list");
                var form = Get(f, "form[id]");
                var e = raw.Event(EventTypes.Optin, Fact(EventTypes.Optin, type, f), at, ContactSubject(f), providerType: type) with
                {
                    Consent =
                    [
                        new ConsentInfo
                        {
                            Channel = "email",
                            Granted = true,
                            Source = form is not null ? $"activecampaign form {form}" : list is not null ? $"activecampaign list {list}" : "activecampaign",
                            At = at.ToUniversalTime(),
                        },
                    ],
                    Tags = list is null ? [] : [list],
                };
                return new MapResult.Mapped([e]);
            }
            case "unsubscribe":
            case "sms_unsub":
            {
                var at = DateTimeField(f);
                var list = Get(f, "list");
                var e = raw.Event(EventTypes.Unsubscribe, Fact(EventTypes.Unsubscribe, type, f), at, ContactSubject(f), providerType: type) with
                {
                    Consent =
                    [
                        new ConsentInfo
                        {
                            Channel = type == "sms_unsub" ? "sms" : "email",
                            Granted = false,
                            Source = list is null ? "activecampaign" : $"activecampaign list {list}",
                            At = at.ToUniversalTime(),
                        },
                    ],
                };
                return new MapResult.Mapped([e]);
            }
            case "contact_tag_added":
            case "contact_tag_removed":
            {
                var at = DateTimeField(f);
                var tag = Get(f, "tag") ?? throw new MappingException("tag: required, expected the name of the tag added or removed");
                var canonical = type == "contact_tag_added" ? EventTypes.TagAdded : EventTypes.TagRemoved;
                var e = raw.Event(canonical, Fact(canonical, type, f), at, ContactSubject(f), providerType: type) with { Tags = [tag] };
                return new MapResult.Mapped([e]);
            }
            case "update":
                return new MapResult.Ignored("ActiveCampaign update names no previous address, so it cannot be an email change; no field Junction tracks");
            default:
                return new MapResult.Ignored($"ActiveCampaign {type} is not an event Junction uses");
        }
    }

    internal static string Key(string type, IReadOnlyDictionary<string, string> f) =>
        $"{type}:{Get(f, "date_time")}:{Contact(f)}:{Get(f, "list")}:{Get(f, "tag")}";

    private static string Fact(string canonical, string type, IReadOnlyDictionary<string, string> f) => $"{canonical}:{Key(type, f)}";

    private static string? Contact(IReadOnlyDictionary<string, string> f) =>
        Get(f, "contact[id]") ?? Identifiers.NormalizeEmail(Get(f, "contact[email]"));

    private static Subject ContactSubject(Dictionary<string, string> f)
    {
        var name = string.Join(' ', new[] { Get(f, "contact[first_name]"), Get(f, "contact[last_name]") }.Where(n => n is not null));
        return Subject.From(Get(f, "contact[email]"), Get(f, "contact[id]"), phone: Get(f, "contact[phone]"), name: name);
    }

    private static DateTimeOffset DateTimeField(Dictionary<string, string> f)
    {
        var text = Get(f, "date_time") ?? throw new MappingException("date_time: required, expected an ISO-8601 time with offset");
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw new MappingException($"date_time: expected an ISO-8601 time with offset (e.g. 2026-11-20T07:00:05-05:00); got '{text}'");
    }

    internal static string? Get(IReadOnlyDictionary<string, string> f, string key) =>
        f.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
}
