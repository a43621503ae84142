using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.ActiveCampaign;

/// <summary>
/// ActiveCampaign API v3 (developers.activecampaign.com/reference), authenticated with the
/// <c>Api-Token</c> header. Writes only the difference between what was last synced and what the
/// person should look like: <c>POST /api/3/contact/sync</c> (upsert by email, standard fields and
/// custom <c>fieldValues</c>) when new or when fields change; tags found by name once
/// (<c>GET /api/3/tags?search=</c>, created with <c>POST /api/3/tags</c> when missing) and added
/// with <c>POST /api/3/contactTags</c>, removed with <c>DELETE /api/3/contactTags/{id}</c>; and,
/// with option <c>list_id</c>, the list status through <c>POST /api/3/contactLists</c> (1 subscribed,
/// 2 unsubscribed). A pending (double opt-in, unconfirmed) contact is not put on the list: status 1
/// through the API subscribes at once, and ActiveCampaign sends its confirmation only from its own forms.
/// </summary>
public sealed class ActiveCampaignConnector : IDestinationConnector
{
    // ActiveCampaign's 429 carries Retry-After ("ex. Retry-After: 30",
    // developers.activecampaign.com/reference/rate-limits); one second is its window when it does not.
    private static readonly TimeSpan RateLimitWait = TimeSpan.FromSeconds(1);

    private const int PageSize = 100;

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly Uri _account;
    private readonly string _apiKey;
    private readonly string? _listId;
    private readonly ConcurrentDictionary<string, string> _tagIds = new(StringComparer.OrdinalIgnoreCase);

    // Custom field ids by perstag and by title (lower case); reloaded when a mapped name is missing.
    private volatile IReadOnlyDictionary<string, string>? _fieldIds;

    public ActiveCampaignConnector(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _http = http;
        _time = time;
        _account = ActiveCampaignDestination.AccountUrl(config.BaseUrl);
        _apiKey = config.Credentials.GetValueOrDefault(ActiveCampaignDestination.ApiKey) ?? "";
        _listId = config.Options.GetValueOrDefault(ActiveCampaignDestination.ListId);
    }

    public DestinationConfig Config { get; }

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var call = new DestinationHttp(_http, _time, _account, r => r.Headers.Add("Api-Token", _apiKey)) { DefaultRetryAfter = RateLimitWait };
        if (work.Kind == DeliveryKinds.Erase && work.Erase is { } erase) return await EraseAsync(call, erase, cancellationToken);
        if (work.Kind != DeliveryKinds.State || work.Desired is not { } desired)
        {
            return call.Permanent("ActiveCampaign takes desired-state deliveries only (and erasures)");
        }
        var last = work.LastSynced;
        string? contactId = null;

        if (last is not null && last.Email != desired.Email)
        {
            // email.changed: move the contact ActiveCampaign has (its tags, lists and history) to the new
            // address. When it no longer has the old one, sync the new address in full.
            var (oldId, failure) = await FindContactAsync(call, last.Email, cancellationToken);
            if (failure is not null) return failure;
            if (oldId is null)
            {
                last = null;
            }
            else
            {
                var r = await call.SendAsync(HttpMethod.Put, $"/api/3/contacts/{Uri.EscapeDataString(oldId)}",
                    new JsonObject { ["contact"] = new JsonObject { ["email"] = desired.Email } }, cancellationToken);
                if (!r.IsSuccess) return Fail(call, r);
                contactId = oldId;
            }
        }

        var toAdd = desired.Tags.Except(last?.Tags ?? [], StringComparer.Ordinal).ToList();
        var toRemove = (last?.Tags ?? []).Except(desired.Tags, StringComparer.Ordinal).ToList();
        var subscribe = _listId is not null && desired.Subscribed && last is not { Subscribed: true };
        // An opt-out also cancels a subscription ActiveCampaign had on its own (a form there, an import).
        var unsubscribe = _listId is not null && !desired.Subscribed
            && (last is { Subscribed: true } || (desired.OptedOut && last is not { OptedOut: true }));
        var sync = last is null || !last.Fields.SequenceEqual(desired.Fields);

        if (sync)
        {
            var contact = new JsonObject { ["email"] = desired.Email };
            var values = new JsonArray();
            foreach (var (name, value) in desired.Fields)
            {
                if (StandardField(name) is { } standard)
                {
                    contact[standard] = value;
                    continue;
                }
                if (name is "email") continue;
                var (fieldId, failure) = await FieldIdAsync(call, name, cancellationToken);
                if (failure is not null) return failure;
                values.Add(new JsonObject { ["field"] = fieldId, ["value"] = value });
            }
            if (values.Count > 0) contact["fieldValues"] = values;
            var r = await call.SendAsync(HttpMethod.Post, "/api/3/contact/sync", new JsonObject { ["contact"] = contact }, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
            contactId = ReadId(r.Body, "contact");
            if (contactId is null) return Unreadable(call, r);
        }

        if (contactId is null && (toAdd.Count > 0 || toRemove.Count > 0 || subscribe || unsubscribe))
        {
            var (id, failure) = await FindContactAsync(call, desired.Email, cancellationToken);
            if (failure is not null) return failure;
            if (id is null)
            {
                // Deleted in ActiveCampaign since the last sync: nothing to untag or unsubscribe; recreate
                // it only for what must be there.
                if (toAdd.Count == 0 && !subscribe) return call.Succeeded();
                var r = await call.SendAsync(HttpMethod.Post, "/api/3/contact/sync",
                    new JsonObject { ["contact"] = new JsonObject { ["email"] = desired.Email } }, cancellationToken);
                if (!r.IsSuccess) return Fail(call, r);
                id = ReadId(r.Body, "contact");
                if (id is null) return Unreadable(call, r);
            }
            contactId = id;
        }

        if (toRemove.Count > 0 && contactId is not null)
        {
            var r = await call.SendAsync(HttpMethod.Get, $"/api/3/contacts/{Uri.EscapeDataString(contactId)}/contactTags", null, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
            var held = ContactTags(r.Body);
            if (held is null) return Unreadable(call, r);
            foreach (var tag in toRemove)
            {
                var (tagId, failure) = await TagIdAsync(call, tag, create: false, cancellationToken);
                if (failure is not null) return failure;
                if (tagId is null || !held.TryGetValue(tagId, out var contactTagId)) continue; // nobody has it, or not this contact
                var d = await call.SendAsync(HttpMethod.Delete, $"/api/3/contactTags/{Uri.EscapeDataString(contactTagId)}", null, cancellationToken);
                if (!d.IsSuccess && d.Status != 404) return Fail(call, d); // 404: already removed
            }
        }

        foreach (var tag in toAdd)
        {
            // A 404 may mean the cached tag was deleted in ActiveCampaign: look it up (or create it) once more.
            for (var round = 0; ; round++)
            {
                var (tagId, failure) = await TagIdAsync(call, tag, create: true, cancellationToken);
                if (failure is not null) return failure;
                // Adding a tag the contact already has answers with the existing contactTag: a retry adds nothing twice.
                var r = await call.SendAsync(HttpMethod.Post, "/api/3/contactTags",
                    new JsonObject { ["contactTag"] = new JsonObject { ["contact"] = contactId, ["tag"] = tagId } }, cancellationToken);
                if (r.IsSuccess) break;
                if (r.Status != 404 || round > 0 || !_tagIds.TryRemove(tag, out _)) return Fail(call, r);
            }
        }

        if ((subscribe || unsubscribe) && contactId is not null)
        {
            var r = await call.SendAsync(HttpMethod.Post, "/api/3/contactLists", new JsonObject
            {
                ["contactList"] = new JsonObject { ["list"] = _listId, ["contact"] = contactId, ["status"] = subscribe ? 1 : 2 },
            }, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
        }
        return call.Succeeded();
    }

    /// <summary>Junction's names (and ActiveCampaign's own) for the contact's standard fields.</summary>
    private static string? StandardField(string name) => name switch
    {
        "first_name" or "firstName" => "firstName",
        "last_name" or "lastName" => "lastName",
        "phone" => "phone",
        _ => null,
    };

    /// <summary>
    /// A forgotten person (R8.4): each address's contact is deleted, with its tags, lists and field
    /// values (<c>DELETE /api/3/contacts/{id}</c>, developers.activecampaign.com "Delete a contact").
    /// No contact, or a 404 on the delete: nothing there.
    /// </summary>
    private static async Task<DeliveryResult> EraseAsync(DestinationHttp call, ContactErasure erase, CancellationToken cancellationToken)
    {
        foreach (var email in erase.Emails)
        {
            var (id, failure) = await FindContactAsync(call, email, cancellationToken);
            if (failure is not null) return failure;
            if (id is null) continue;
            var r = await call.SendAsync(HttpMethod.Delete, $"/api/3/contacts/{Uri.EscapeDataString(id)}", null, cancellationToken);
            if (!r.IsSuccess && r.Status != 404) return Fail(call, r);
        }
        return call.Succeeded();
    }

    private static async Task<(string? Id, DeliveryResult? Failure)> FindContactAsync(DestinationHttp call, string email, CancellationToken cancellationToken)
    {
        var r = await call.SendAsync(HttpMethod.Get, "/api/3/contacts?email=" + Uri.EscapeDataString(email), null, cancellationToken);
        if (!r.IsSuccess) return (null, Fail(call, r));
        try
        {
            using var doc = JsonDocument.Parse(r.Body);
            if (!doc.RootElement.TryGetProperty("contacts", out var list) || list.ValueKind != JsonValueKind.Array) return (null, Unreadable(call, r));
            foreach (var c in list.EnumerateArray())
            {
                // The email filter matches exactly, case aside; check anyway rather than trust a loose match.
                if (c.TryGetProperty("email", out var e) && string.Equals(e.GetString(), email, StringComparison.OrdinalIgnoreCase) && Id(c) is { } id) return (id, null);
            }
            return (null, null);
        }
        catch (JsonException)
        {
            return (null, Unreadable(call, r));
        }
    }

    /// <summary>The tag's id by name: from the cache, else from <c>GET /api/3/tags?search=</c>, else created with <c>POST /api/3/tags</c>.</summary>
    private async Task<(string? Id, DeliveryResult? Failure)> TagIdAsync(DestinationHttp call, string name, bool create, CancellationToken cancellationToken)
    {
        if (_tagIds.TryGetValue(name, out var cached)) return (cached, null);
        // search= matches by substring ("Customer" finds "Customer - Pro"): take the exact name only.
        var r = await call.SendAsync(HttpMethod.Get, $"/api/3/tags?search={Uri.EscapeDataString(name)}&limit={PageSize}", null, cancellationToken);
        if (!r.IsSuccess) return (null, Fail(call, r));
        try
        {
            using var doc = JsonDocument.Parse(r.Body);
            if (!doc.RootElement.TryGetProperty("tags", out var tags) || tags.ValueKind != JsonValueKind.Array) return (null, Unreadable(call, r));
            foreach (var t in tags.EnumerateArray())
            {
                if (t.TryGetProperty("tag", out var n) && n.GetString() is { } tagName && Id(t) is { } id
                    && (!t.TryGetProperty("tagType", out var type) || type.GetString() is null or "contact"))
                {
                    _tagIds.TryAdd(tagName, id);
                }
            }
        }
        catch (JsonException)
        {
            return (null, Unreadable(call, r));
        }
        if (_tagIds.TryGetValue(name, out cached)) return (cached, null);
        if (!create) return (null, null);

        var created = await call.SendAsync(HttpMethod.Post, "/api/3/tags",
            new JsonObject { ["tag"] = new JsonObject { ["tag"] = name, ["tagType"] = "contact", ["description"] = "Managed by Junction" } }, cancellationToken);
        if (!created.IsSuccess) return (null, Fail(call, created));
        if (ReadId(created.Body, "tag") is not { } newId) return (null, Unreadable(call, created));
        _tagIds[name] = newId;
        return (newId, null);
    }

    /// <summary>A custom field's id by its personalization tag or title, from <c>GET /api/3/fields</c> (all pages, cached).</summary>
    private async Task<(string? Id, DeliveryResult? Failure)> FieldIdAsync(DestinationHttp call, string name, CancellationToken cancellationToken)
    {
        var key = FieldKey(name);
        if (_fieldIds is { } known && known.TryGetValue(key, out var id)) return (id, null);
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var offset = 0; offset < 100_000;)
        {
            var r = await call.SendAsync(HttpMethod.Get, $"/api/3/fields?limit={PageSize}&offset={offset}", null, cancellationToken);
            if (!r.IsSuccess) return (null, Fail(call, r));
            int count;
            long total;
            try
            {
                using var doc = JsonDocument.Parse(r.Body);
                if (!doc.RootElement.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Array) return (null, Unreadable(call, r));
                count = fields.GetArrayLength();
                total = ActiveCampaignReadBack.Total(doc.RootElement);
                foreach (var f in fields.EnumerateArray())
                {
                    if (Id(f) is not { } fieldId) continue;
                    // The title wins over nothing; a perstag (unique in the account) wins over a title.
                    if (f.TryGetProperty("title", out var title) && title.GetString() is { Length: > 0 } t) ids.TryAdd(FieldKey(t), fieldId);
                    if (f.TryGetProperty("perstag", out var tag) && tag.GetString() is { Length: > 0 } p) ids[FieldKey(p)] = fieldId;
                }
            }
            catch (JsonException)
            {
                return (null, Unreadable(call, r));
            }
            offset += count;
            if (count == 0 || offset >= total) break;
        }
        _fieldIds = ids;
        return ids.TryGetValue(key, out id)
            ? (id, null)
            : (null, call.Permanent($"destinations.{Config.Id}.fields: ActiveCampaign has no custom field '{name}' (by personalization tag or title); create it under Contacts → Fields or map another"));
    }

    private static string FieldKey(string name) => name.Trim().Trim('%').ToLowerInvariant();

    /// <summary>Tag id → contactTag id, from <c>GET /api/3/contacts/{id}/contactTags</c>.</summary>
    private static Dictionary<string, string>? ContactTags(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("contactTags", out var list) || list.ValueKind != JsonValueKind.Array) return null;
            var held = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var ct in list.EnumerateArray())
            {
                if (ct.TryGetProperty("tag", out var tag) && Scalar(tag) is { } tagId && Id(ct) is { } id) held[tagId] = id;
            }
            return held;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static DeliveryResult Fail(DestinationHttp call, HttpReply r) => call.Failed(r, message: ActiveCampaignDestination.ErrorMessage);

    private static DeliveryResult Unreadable(DestinationHttp call, HttpReply r) => call.Unexpected(r, "not the JSON ActiveCampaign documents");

    private static string? ReadId(string body, string property)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out var o) && o.ValueKind == JsonValueKind.Object ? Id(o) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>ActiveCampaign sends ids as strings ("113"); accept numbers too.</summary>
    internal static string? Id(JsonElement o) => o.TryGetProperty("id", out var id) ? Scalar(id) : null;

    internal static string? Scalar(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number => v.GetRawText(),
        _ => null,
    };
}
