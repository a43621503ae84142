using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Kit;

/// <summary>
/// Kit (ConvertKit) API v4, authenticated with the <c>X-Kit-Api-Key</c> header
/// (developers.kit.com/api-reference). Writes only the difference between what was last synced and
/// what the person should look like: upsert the subscriber when new or when fields change, tag and
/// untag by tag id (ids looked up once per connector, tags created when missing), unsubscribe.
/// </summary>
public sealed class KitConnector : IDestinationConnector
{
    // Kit's 429 carries no Retry-After and says "a wait of up to 60 seconds resets the limit"
    // (developers.kit.com/api-reference/rate-limits).
    private static readonly TimeSpan RateLimitWait = TimeSpan.FromSeconds(60);

    private static readonly string[] KitResetHeaders = ["RateLimit-Reset", "X-RateLimit-Reset"];

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly string _apiKey;
    private readonly ConcurrentDictionary<string, long> _tagIds = new(StringComparer.OrdinalIgnoreCase);

    public KitConnector(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _http = http;
        _time = time;
        _apiKey = config.Credentials.TryGetValue("api_key", out var key) ? key : "";
        _doubleOptInForm = config.Options.TryGetValue(DoubleOptInFormOption, out var form) ? form : null;
        _subscribeForm = config.Options.TryGetValue(SubscribeFormOption, out var subscribe) ? subscribe : null;
    }

    /// <summary>
    /// A Kit single opt-in form. Kit's upsert never changes an existing subscriber's state, so a
    /// contact Kit holds inactive (a buyer synced before their opt-in, held unmailed) can only be
    /// activated through a form: when they opt in, Junction adds them to this one.
    /// </summary>
    public const string SubscribeFormOption = "subscribe_form";

    private readonly string? _subscribeForm;

    /// <summary>A Kit double opt-in form: a pending contact is added to it so Kit mails its confirmation (incentive email).</summary>
    public const string DoubleOptInFormOption = "double_opt_in_form";

    private readonly string? _doubleOptInForm;

    public DestinationConfig Config { get; }

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var call = new DestinationHttp(_http, _time, Config.BaseUrl, r => r.Headers.Add("X-Kit-Api-Key", _apiKey))
        {
            ResetHeaders = KitResetHeaders,
            DefaultRetryAfter = RateLimitWait,
        };
        if (work.Kind == DeliveryKinds.Erase && work.Erase is { } erase) return await EraseAsync(call, erase, cancellationToken);
        if (work.Kind != DeliveryKinds.State || work.Desired is not { } desired)
        {
            return call.Permanent("Kit takes desired-state and erase deliveries only");
        }
        var last = work.LastSynced;
        long? subscriberId = null;
        if (last is not null && last.Email != desired.Email)
        {
            // email.changed: move the subscriber Kit has (and its tags and history) to the new
            // address. When Kit no longer has the old one, or refuses the new one, sync in full.
            var found = await call.SendAsync(HttpMethod.Get, "/v4/subscribers?status=all&email_address=" + Uri.EscapeDataString(last.Email), null, cancellationToken);
            if (!found.IsSuccess) return Fail(call, found);
            subscriberId = FirstId(found.Body, "subscribers");
            if (subscriberId is { } oldId)
            {
                var renamed = await call.SendAsync(HttpMethod.Put, $"/v4/subscribers/{oldId}", new JsonObject { ["email_address"] = desired.Email }, cancellationToken);
                if (renamed.FailsForAnyRequest) return Fail(call, renamed);
                if (!renamed.IsSuccess) subscriberId = null;
            }
            if (subscriberId is null) last = null;
            else last = last with { Email = desired.Email };
        }

        var toAdd = desired.Tags.Except(last?.Tags ?? [], StringComparer.Ordinal).ToList();
        var toRemove = (last?.Tags ?? []).Except(desired.Tags, StringComparer.Ordinal).ToList();
        // An opt-out also cancels a subscription Kit had on its own (a Kit form, an import), which
        // the upsert below would leave active: it sets the state of new subscribers only.
        var unsubscribe = !desired.Subscribed && (last is { Subscribed: true } || (desired.OptedOut && last is not { OptedOut: true }));
        var upsert = last is null || !last.Fields.SequenceEqual(desired.Fields) || (desired.Subscribed && last is { Subscribed: false });

        if (upsert)
        {
            // POST /v4/subscribers is an upsert by email. It sets the state of a new subscriber
            // only; Kit offers no API to re-activate a cancelled one (the person re-opts in through
            // a Kit form), so a re-subscribe updates the fields and leaves the state to Kit.
            var body = new JsonObject { ["email_address"] = desired.Email };
            // A pending double opt-in is "inactive" too (Kit v4 subscriber states: active, inactive,
            // bounced, cancelled, complained): held, not mailed, until Kit reports it active.
            if (last is null) body["state"] = desired.Subscribed ? "active" : "inactive";
            var fields = new JsonObject();
            foreach (var (name, value) in desired.Fields)
            {
                if (name == "first_name") body["first_name"] = value;
                else fields[name] = value;
            }
            if (fields.Count > 0) body["fields"] = fields;
            var r = await call.SendAsync(HttpMethod.Post, "/v4/subscribers", body, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
            subscriberId = ReadId(r.Body, "subscriber");
        }

        if (desired.Subscribed && last is { Subscribed: false, OptedOut: false } && _subscribeForm is { } subscribeForm)
        {
            // Known to Kit but not subscribed (created inactive as a buyer without consent, or a pending
            // double opt-in the creator confirmed elsewhere): the single opt-in form activates them.
            var r = await call.SendAsync(HttpMethod.Post, $"/v4/forms/{Uri.EscapeDataString(subscribeForm)}/subscribers", new JsonObject { ["email_address"] = desired.Email }, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
        }

        if (desired.Pending && last is not { Pending: true } && _doubleOptInForm is { } form)
        {
            // "Adding subscribers to double opt-in forms will trigger sending an Incentive Email"
            // (developers.kit.com/api-reference/forms); the subscriber must exist, created inactive above.
            var r = await call.SendAsync(HttpMethod.Post, $"/v4/forms/{Uri.EscapeDataString(form)}/subscribers", new JsonObject { ["email_address"] = desired.Email }, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
        }

        if (toRemove.Count > 0 || unsubscribe)
        {
            if (subscriberId is null)
            {
                var r = await call.SendAsync(HttpMethod.Get, "/v4/subscribers?status=all&email_address=" + Uri.EscapeDataString(desired.Email), null, cancellationToken);
                if (!r.IsSuccess) return Fail(call, r);
                subscriberId = FirstId(r.Body, "subscribers");
            }
            if (subscriberId is { } id)
            {
                foreach (var tag in toRemove)
                {
                    var (tagId, failure) = await TagIdAsync(call, tag, create: false, cancellationToken);
                    if (failure is not null) return failure;
                    if (tagId is null) continue; // no such tag in Kit: nobody has it
                    var r = await call.SendAsync(HttpMethod.Delete, $"/v4/tags/{tagId}/subscribers/{id}", null, cancellationToken);
                    if (!r.IsSuccess && r.Status != 404) return Fail(call, r); // 404: already untagged
                }
            }
        }

        foreach (var tag in toAdd)
        {
            // By email: the subscriber exists (created above, or synced before). A 404 may mean the
            // cached tag was deleted in Kit: look it up (or create it) once more.
            for (var round = 0; ; round++)
            {
                var (tagId, failure) = await TagIdAsync(call, tag, create: true, cancellationToken);
                if (failure is not null) return failure;
                var r = await call.SendAsync(HttpMethod.Post, $"/v4/tags/{tagId}/subscribers", new JsonObject { ["email_address"] = desired.Email }, cancellationToken);
                if (r.IsSuccess) break;
                if (r.Status != 404 || round > 0 || !_tagIds.TryRemove(tag, out _)) return Fail(call, r);
            }
        }

        if (unsubscribe && subscriberId is { } sid)
        {
            var r = await call.SendAsync(HttpMethod.Post, $"/v4/subscribers/{sid}/unsubscribe", new JsonObject(), cancellationToken);
            if (!r.IsSuccess && r.Status != 404) return Fail(call, r);
        }
        return call.Succeeded();
    }

    /// <summary>The tag's id by name: from the cache, else from GET /v4/tags (all pages), else created with POST /v4/tags.</summary>
    private async Task<(long? Id, DeliveryResult? Failure)> TagIdAsync(DestinationHttp call, string name, bool create, CancellationToken cancellationToken)
    {
        if (_tagIds.TryGetValue(name, out var cached)) return (cached, null);
        string? after = null;
        for (var page = 0; page < 100; page++)
        {
            var r = await call.SendAsync(HttpMethod.Get, "/v4/tags?per_page=1000" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)), null, cancellationToken);
            if (!r.IsSuccess) return (null, Fail(call, r));
            after = null;
            try
            {
                using var doc = JsonDocument.Parse(r.Body);
                if (doc.RootElement.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array)
                {
                    foreach (var t in tags.EnumerateArray())
                    {
                        if (t.TryGetProperty("id", out var id) && id.TryGetInt64(out var value) && t.TryGetProperty("name", out var n) && n.GetString() is { } tagName)
                        {
                            _tagIds[tagName] = value;
                        }
                    }
                }
                if (doc.RootElement.TryGetProperty("pagination", out var p) && p.TryGetProperty("has_next_page", out var more) && more.ValueKind == JsonValueKind.True
                    && p.TryGetProperty("end_cursor", out var cursor) && cursor.ValueKind == JsonValueKind.String)
                {
                    after = cursor.GetString();
                }
            }
            catch (JsonException)
            {
                return (null, Unreadable(call, r));
            }
            if (after is null) break;
        }
        if (_tagIds.TryGetValue(name, out cached)) return (cached, null);
        if (!create) return (null, null);

        var created = await call.SendAsync(HttpMethod.Post, "/v4/tags", new JsonObject { ["name"] = name }, cancellationToken);
        if (!created.IsSuccess) return (null, Fail(call, created));
        if (ReadId(created.Body, "tag") is not { } newId) return (null, Unreadable(call, created));
        _tagIds[name] = newId;
        return (newId, null);
    }

    /// <summary>
    /// A forgotten person (R8.4). Kit's API v4 has no subscriber delete, so the subscriber's first name
    /// and every mapped custom field are cleared (<c>PUT /v4/subscribers/{id}</c>) and it is unsubscribed
    /// (<c>POST /v4/subscribers/{id}/unsubscribe</c>, developers.kit.com/api-reference/subscribers);
    /// deleting the address itself is a step in Kit's own UI (docs/data-rights.md). No subscriber: done.
    /// </summary>
    private async Task<DeliveryResult> EraseAsync(DestinationHttp call, ContactErasure erase, CancellationToken cancellationToken)
    {
        foreach (var email in erase.Emails)
        {
            var found = await call.SendAsync(HttpMethod.Get, "/v4/subscribers?status=all&email_address=" + Uri.EscapeDataString(email), null, cancellationToken);
            if (!found.IsSuccess) return Fail(call, found);
            if (FirstId(found.Body, "subscribers") is not { } id) continue;
            var wipe = new JsonObject { ["first_name"] = "" };
            var fields = new JsonObject();
            foreach (var name in Config.Fields.Values.Where(f => f is not ("email" or "email_address" or "first_name")).Distinct(StringComparer.Ordinal))
            {
                fields[name] = null;
            }
            if (fields.Count > 0) wipe["fields"] = fields;
            var wiped = await call.SendAsync(HttpMethod.Put, $"/v4/subscribers/{id}", wipe, cancellationToken);
            if (!wiped.IsSuccess && wiped.Status != 404) return Fail(call, wiped);
            var unsubscribed = await call.SendAsync(HttpMethod.Post, $"/v4/subscribers/{id}/unsubscribe", new JsonObject(), cancellationToken);
            if (!unsubscribed.IsSuccess && unsubscribed.Status != 404) return Fail(call, unsubscribed);
        }
        return call.Succeeded();
    }

    private static DeliveryResult Fail(DestinationHttp call, HttpReply r) => call.Failed(r, message: ErrorMessage);

    private static DeliveryResult Unreadable(DestinationHttp call, HttpReply r) => call.Unexpected(r, "not the JSON Kit documents");

    /// <summary>Kit's errors are <c>{"errors": ["…"]}</c>; its 429 body is the plain text "Retry later".</summary>
    private static string? ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                return string.Join("; ", errors.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()));
            }
        }
        catch (JsonException)
        {
        }
        var text = body.Trim();
        return text.Length is > 0 and <= 200 ? text : null;
    }

    private static long? ReadId(string body, string property)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out var o)
                && o.ValueKind == JsonValueKind.Object && o.TryGetProperty("id", out var id) && id.TryGetInt64(out var value) ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static long? FirstId(string body, string property)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(property, out var list) || list.ValueKind != JsonValueKind.Array) return null;
            foreach (var item in list.EnumerateArray())
            {
                if (item.TryGetProperty("id", out var id) && id.TryGetInt64(out var value)) return value;
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
