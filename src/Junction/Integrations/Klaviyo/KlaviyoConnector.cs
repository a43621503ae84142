using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Canonical;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Klaviyo;

/// <summary>
/// Klaviyo's JSON:API (developers.klaviyo.com/en/reference, revision <see cref="KlaviyoDestination.Revision"/>).
/// State: writes only the difference between what was last synced and what the person should look
/// like — <c>POST /api/profile-import</c> (upsert by email: standard attributes, mapped fields and
/// the <c>junction_tags</c> property) when new or changed; tags mapped to <c>list:&lt;id&gt;</c> as
/// membership of that list (<c>POST/DELETE /api/lists/{id}/relationships/profiles</c>); consent through
/// subscribe and unsubscribe jobs for the <c>list_id</c> list. Events: <c>order.paid</c> as
/// <c>Placed Order</c> and <c>order.refunded</c> as <c>Refunded Order</c> through <c>POST /api/events</c>,
/// with <c>unique_id</c> = the task's idempotency key, so a resend is the same event to Klaviyo.
/// </summary>
public sealed class KlaviyoConnector : IDestinationConnector
{
    // Klaviyo's 429 carries Retry-After (developers.klaviyo.com/en/docs/rate_limits_and_error_handling);
    // without one, wait out the steady window, the longer of the two.
    private static readonly TimeSpan RateLimitWait = TimeSpan.FromSeconds(60);

    private const string JsonApi = "application/vnd.api+json";

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly string _apiKey;
    private readonly string? _listId;

    public KlaviyoConnector(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _http = http;
        _time = time;
        _apiKey = config.Credentials.GetValueOrDefault(KlaviyoDestination.ApiKey) ?? "";
        _listId = config.Options.GetValueOrDefault(KlaviyoDestination.ListId);
    }

    public DestinationConfig Config { get; }

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var call = new DestinationHttp(_http, _time, authorize: r => KlaviyoDestination.Authorize(r, _apiKey)) { DefaultRetryAfter = RateLimitWait };
        return work.Kind switch
        {
            DeliveryKinds.State when work.Desired is { } desired => await StateAsync(call, desired, work.LastSynced, cancellationToken),
            DeliveryKinds.Event when work.Event is { } e => await EventAsync(call, e, work, cancellationToken),
            _ => call.Permanent($"klaviyo: a {work.Kind} task without its {(work.Kind == DeliveryKinds.State ? "desired state" : "event")}"),
        };
    }

    private async Task<DeliveryResult> StateAsync(DestinationHttp call, DesiredContact desired, DesiredContact? last, CancellationToken cancellationToken)
    {
        if (_listId is null) return call.Permanent($"destinations.{Config.Id}.list_id: required for Klaviyo");
        string? profileId = null;
        if (last is not null && last.Email != desired.Email)
        {
            // email.changed: the import below updates the profile Klaviyo has (its history, lists and
            // consent) when given its id; without one it would create a second profile.
            var (oldId, failure) = await FindProfileAsync(call, last.Email, cancellationToken);
            if (failure is not null) return failure;
            if (oldId is null) last = null;
            else profileId = oldId;
        }

        var propertyTags = desired.Tags.Where(t => KlaviyoDestination.ListOf(t) is null).ToList();
        var lastPropertyTags = (last?.Tags ?? []).Where(t => KlaviyoDestination.ListOf(t) is null).ToList();
        var listsToAdd = desired.Tags.Except(last?.Tags ?? [], StringComparer.Ordinal).Select(KlaviyoDestination.ListOf).OfType<string>().ToList();
        var listsToRemove = (last?.Tags ?? []).Except(desired.Tags, StringComparer.Ordinal).Select(KlaviyoDestination.ListOf).OfType<string>().ToList();
        var wanted = desired.Subscribed || desired.Pending;
        // Subscribing a pending contact is what asks for the confirmation: on a double opt-in list
        // Klaviyo mails it, and the profile joins the list when it is confirmed.
        var subscribe = wanted && last is not ({ Subscribed: true } or { Pending: true });
        // An opt-out also cancels a subscription Klaviyo had on its own (a Klaviyo form, an import).
        var unsubscribe = !wanted && (last is { Subscribed: true } or { Pending: true } || (desired.OptedOut && last is not { OptedOut: true }));
        var upsert = last is null || profileId is not null || !last.Fields.SequenceEqual(desired.Fields) || !lastPropertyTags.SequenceEqual(propertyTags);

        if (upsert)
        {
            var attributes = new JsonObject { ["email"] = desired.Email };
            var properties = new JsonObject();
            foreach (var (name, value) in desired.Fields)
            {
                if (StandardAttribute(name) is { } standard) attributes[standard] = value;
                else if (name != "email") properties[name] = value;
            }
            // The whole list each time: Klaviyo replaces a property's value, so a removed tag leaves it.
            if (propertyTags.Count > 0 || lastPropertyTags.Count > 0) properties[KlaviyoDestination.TagsProperty] = new JsonArray([.. propertyTags.Select(t => (JsonNode)t)]);
            if (properties.Count > 0) attributes["properties"] = properties;
            var data = new JsonObject { ["type"] = "profile" };
            if (profileId is not null) data["id"] = profileId;
            data["attributes"] = attributes;
            var r = await SendAsync(call, HttpMethod.Post, "/api/profile-import", new JsonObject { ["data"] = data }, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
            profileId = ProfileId(r.Body);
            if (profileId is null) return Unreadable(call, r);
        }

        if (profileId is null && (listsToAdd.Count > 0 || listsToRemove.Count > 0))
        {
            var (id, failure) = await FindProfileAsync(call, desired.Email, cancellationToken);
            if (failure is not null) return failure;
            if (id is null && listsToAdd.Count > 0)
            {
                // Deleted in Klaviyo since the last sync: recreate it for the lists it must be in.
                var r = await SendAsync(call, HttpMethod.Post, "/api/profile-import",
                    new JsonObject { ["data"] = new JsonObject { ["type"] = "profile", ["attributes"] = new JsonObject { ["email"] = desired.Email } } }, cancellationToken);
                if (!r.IsSuccess) return Fail(call, r);
                id = ProfileId(r.Body);
                if (id is null) return Unreadable(call, r);
            }
            profileId = id;
        }

        if (profileId is not null)
        {
            var member = new JsonObject { ["data"] = new JsonArray { new JsonObject { ["type"] = "profile", ["id"] = profileId } } };
            foreach (var list in listsToRemove)
            {
                var r = await SendAsync(call, HttpMethod.Delete, $"/api/lists/{Uri.EscapeDataString(list)}/relationships/profiles", member.DeepClone(), cancellationToken);
                if (!r.IsSuccess) return Fail(call, r);
            }
            foreach (var list in listsToAdd)
            {
                // Adding a member twice is a no-op for Klaviyo: a retry doubles nothing.
                var r = await SendAsync(call, HttpMethod.Post, $"/api/lists/{Uri.EscapeDataString(list)}/relationships/profiles", member.DeepClone(), cancellationToken);
                if (!r.IsSuccess) return Fail(call, r);
            }
        }

        if (subscribe || unsubscribe)
        {
            // Both are asynchronous jobs (202) keyed by email, idempotent for the same consent.
            var kind = subscribe ? "profile-subscription-bulk-create-job" : "profile-subscription-bulk-delete-job";
            var profile = new JsonObject
            {
                ["type"] = "profile",
                ["attributes"] = new JsonObject
                {
                    ["email"] = desired.Email,
                    ["subscriptions"] = new JsonObject
                    {
                        ["email"] = new JsonObject { ["marketing"] = new JsonObject { ["consent"] = subscribe ? "SUBSCRIBED" : "UNSUBSCRIBED" } },
                    },
                },
            };
            var attributes = new JsonObject { ["profiles"] = new JsonObject { ["data"] = new JsonArray { profile } } };
            if (subscribe) attributes["custom_source"] = "Junction";
            var body = new JsonObject
            {
                ["data"] = new JsonObject
                {
                    ["type"] = kind,
                    ["attributes"] = attributes,
                    ["relationships"] = new JsonObject { ["list"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "list", ["id"] = _listId } } },
                },
            };
            var path = subscribe ? "/api/profile-subscription-bulk-create-jobs" : "/api/profile-subscription-bulk-delete-jobs";
            var r = await SendAsync(call, HttpMethod.Post, path, body, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
        }
        return call.Succeeded();
    }

    private async Task<DeliveryResult> EventAsync(DestinationHttp call, CanonicalEvent e, DeliveryWork work, CancellationToken cancellationToken)
    {
        var metric = e.Type switch
        {
            EventTypes.OrderPaid => KlaviyoDestination.PlacedOrder,
            EventTypes.OrderRefunded => KlaviyoDestination.RefundedOrder,
            _ => null,
        };
        if (metric is null) return call.Succeeded(); // not an event Junction sends to Klaviyo
        if (e.Order is not { } order) return call.Permanent($"klaviyo: {e.Type} event {e.Id} has no order");

        var properties = new JsonObject { ["OrderId"] = order.OrderId };
        var items = new JsonArray();
        foreach (var item in order.Items)
        {
            var entry = new JsonObject();
            if ((item.Sku ?? item.ProductId ?? item.PriceId) is { } id) entry["ProductID"] = id;
            if (item.Name is { } name) entry["ProductName"] = name;
            entry["Quantity"] = Math.Max(item.Quantity, 1);
            items.Add(entry);
        }
        if (items.Count > 0)
        {
            properties["Items"] = items;
            properties["ItemNames"] = new JsonArray([.. order.Items.Where(i => i.Name is not null).Select(i => (JsonNode)i.Name!)]);
        }

        var attributes = new JsonObject
        {
            ["properties"] = properties,
            ["time"] = e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        };
        var amount = e.Type == EventTypes.OrderRefunded ? order.RefundAmount ?? order.Amount : order.Amount;
        if (Money.Currency(order.Currency) is { } currency && amount is { } minor)
        {
            attributes["value"] = Money.ToMajor(minor, currency);
            attributes["value_currency"] = currency;
        }
        // Klaviyo drops an event whose unique_id it has seen for the same profile and metric: retries
        // and replays of this task are one event.
        attributes["unique_id"] = work.IdempotencyKey;
        attributes["metric"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "metric", ["attributes"] = new JsonObject { ["name"] = metric } } };
        var profile = new JsonObject();
        if (e.Subject.Email is { } email) profile["email"] = email;
        else profile["external_id"] = work.PersonId;
        attributes["profile"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "profile", ["attributes"] = profile } };

        var r = await SendAsync(call, HttpMethod.Post, "/api/events", new JsonObject { ["data"] = new JsonObject { ["type"] = "event", ["attributes"] = attributes } }, cancellationToken);
        return r.IsSuccess ? call.Succeeded() : Fail(call, r);
    }

    /// <summary>Junction's field names that are Klaviyo profile attributes rather than custom properties.</summary>
    private static string? StandardAttribute(string name) => name switch
    {
        "first_name" or "last_name" or "organization" or "title" or "external_id" or "phone_number" => name,
        "phone" => "phone_number",
        _ => null,
    };

    private async Task<(string? Id, DeliveryResult? Failure)> FindProfileAsync(DestinationHttp call, string email, CancellationToken cancellationToken)
    {
        var filter = Uri.EscapeDataString($"equals(email,\"{email.Replace("\"", "\\\"", StringComparison.Ordinal)}\")");
        var r = await SendAsync(call, HttpMethod.Get, "/api/profiles?filter=" + filter, null, cancellationToken);
        if (!r.IsSuccess) return (null, Fail(call, r));
        try
        {
            using var doc = JsonDocument.Parse(r.Body);
            if (!doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array) return (null, Unreadable(call, r));
            foreach (var p in data.EnumerateArray())
            {
                if (p.TryGetProperty("id", out var id) && id.GetString() is { } value) return (value, null);
            }
            return (null, null);
        }
        catch (JsonException)
        {
            return (null, Unreadable(call, r));
        }
    }

    private Task<HttpReply> SendAsync(DestinationHttp call, HttpMethod method, string pathAndQuery, JsonNode? body, CancellationToken cancellationToken) =>
        call.SendAsync(method, DestinationHttp.Under(Config.BaseUrl, pathAndQuery), pathAndQuery, body?.ToJsonString(), request =>
        {
            request.Headers.Accept.ParseAdd(JsonApi);
            if (request.Content is not null) request.Content.Headers.ContentType = new MediaTypeHeaderValue(JsonApi);
        }, cancellationToken);

    private static string? ProfileId(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static DeliveryResult Fail(DestinationHttp call, HttpReply r) => call.Failed(r, message: KlaviyoDestination.ErrorMessage);

    private static DeliveryResult Unreadable(DestinationHttp call, HttpReply r) => call.Unexpected(r, "not the JSON:API document Klaviyo documents");
}
