using System.Globalization;
using System.Text.Json.Nodes;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Junction.Tests.Integrations.HubSpot;

/// <summary>
/// HubSpot CRM v3 over loopback, following developers.hubspot.com: private app token as
/// <c>Authorization: Bearer</c> (401 INVALID_AUTHENTICATION), contacts batch upsert by email and
/// listing with the <c>after</c> cursor, PATCH by idProperty, properties that must exist (400
/// VALIDATION_ERROR PROPERTY_DOESNT_EXIST) and a multiple checkboxes tags property whose values must
/// be defined options, the communication preferences subscribe/unsubscribe (400 "already …"), deals
/// upserted by a unique property and associated with contacts, and the 10-second burst 429 with
/// X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds and no Retry-After.
/// </summary>
public sealed class FakeHubSpot : IAsyncDisposable
{
    public const string Token = "pat-na1-11111111-2222-3333-4444-555555555555";
    public const string TagsProperty = "junction_tags";
    public const string OrderIdProperty = "junction_order_id";
    public const string SubscriptionId = "4711";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, string>> _contacts = [];
    private readonly Dictionary<string, Dictionary<string, string>> _deals = [];
    private readonly HashSet<(string Deal, string Contact)> _associations = [];
    private readonly Dictionary<string, string> _subscriptions = new(StringComparer.OrdinalIgnoreCase);
    private long _nextId = 500;
    private int _rateLimited;
    private int _failing;
    private int _failStatus = 500;
    private int _invalidNext;
    private FakeApi _api = null!;

    public Uri BaseUrl => _api.BaseUrl;

    public FakeApi Api => _api;

    /// <summary>Properties defined on contacts (beyond email, firstname, lastname): anything else is refused.</summary>
    public HashSet<string> ContactProperties { get; } = new(StringComparer.Ordinal)
    {
        "email", "firstname", "lastname", TagsProperty, "lifetime_value", "buyer_status", "first_utm_source", "last_utm_source",
    };

    /// <summary>The options of the multiple checkboxes tags property; null = a text property (anything goes).</summary>
    public HashSet<string>? TagOptions { get; set; }

    /// <summary>The burst window the 429 names (HubSpot: 10 000 ms); short in tests.</summary>
    public int IntervalMilliseconds { get; set; } = 10_000;

    /// <summary>Contacts list page size cap (HubSpot allows up to 100).</summary>
    public int PageSize { get; set; } = 100;

    public static async Task<FakeHubSpot> StartAsync()
    {
        var fake = new FakeHubSpot();
        fake._api = await FakeApi.StartAsync(fake.Map);
        return fake;
    }

    public void RateLimitNext(int count)
    {
        lock (_gate) _rateLimited = count;
    }

    public void FailNext(int count, int status = 500)
    {
        lock (_gate) (_failing, _failStatus) = (count, status);
    }

    /// <summary>The next <paramref name="count"/> contact writes are refused 400 VALIDATION_ERROR (a property the creator deleted).</summary>
    public void RefuseNextContactWrites(int count)
    {
        lock (_gate) _invalidNext = count;
    }

    public void AddContact(string email, params (string Name, string Value)[] properties)
    {
        lock (_gate)
        {
            var c = new Dictionary<string, string>(StringComparer.Ordinal) { ["email"] = email };
            foreach (var (name, value) in properties) c[name] = value;
            _contacts[(++_nextId).ToString(CultureInfo.InvariantCulture)] = c;
        }
    }

    public IReadOnlyDictionary<string, string>? ContactOf(string email)
    {
        lock (_gate) return Find(email) is { } id ? new Dictionary<string, string>(_contacts[id], StringComparer.Ordinal) : null;
    }

    public IReadOnlyList<string> TagsOf(string email)
    {
        lock (_gate)
        {
            return Find(email) is { } id && _contacts[id].TryGetValue(TagsProperty, out var v)
                ? [.. v.Split(';', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)]
                : [];
        }
    }

    public int ContactCount
    {
        get { lock (_gate) return _contacts.Count; }
    }

    public string? SubscriptionOf(string email)
    {
        lock (_gate) return _subscriptions.GetValueOrDefault(email);
    }

    public void SetSubscription(string email, string status)
    {
        lock (_gate) _subscriptions[email] = status;
    }

    /// <summary>The deal of an order (by the unique order-id property), or null.</summary>
    public IReadOnlyDictionary<string, string>? Deal(string orderId)
    {
        lock (_gate)
        {
            var deal = _deals.Values.FirstOrDefault(d => d.GetValueOrDefault(OrderIdProperty) == orderId);
            return deal is null ? null : new Dictionary<string, string>(deal, StringComparer.Ordinal);
        }
    }

    /// <summary>True when the order's deal is associated with the contact of <paramref name="email"/>.</summary>
    public bool DealAssociated(string orderId, string email)
    {
        lock (_gate)
        {
            var deal = _deals.FirstOrDefault(d => d.Value.GetValueOrDefault(OrderIdProperty) == orderId).Key;
            return deal is not null && Find(email) is { } contact && _associations.Contains((deal, contact));
        }
    }

    public int DealCount
    {
        get { lock (_gate) return _deals.Count; }
    }

    private string? Find(string email) =>
        _contacts.FirstOrDefault(c => string.Equals(c.Value.GetValueOrDefault("email"), email, StringComparison.OrdinalIgnoreCase)).Key;

    private void Map(IEndpointRouteBuilder app)
    {
        app.MapGroup("").AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            lock (_gate)
            {
                if (_rateLimited > 0)
                {
                    _rateLimited--;
                    http.Response.Headers["X-HubSpot-RateLimit-Max"] = "100";
                    http.Response.Headers["X-HubSpot-RateLimit-Remaining"] = "0";
                    http.Response.Headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = IntervalMilliseconds.ToString(CultureInfo.InvariantCulture);
                    return Results.Json(new
                    {
                        status = "error", message = "You have reached your ten_secondly_rolling limit.", errorType = "RATE_LIMIT",
                        correlationId = Guid.NewGuid(), policyName = "TEN_SECONDLY_ROLLING", groupName = "publicapi:private-app:burst",
                    }, statusCode: 429);
                }
                if (_failing > 0)
                {
                    _failing--;
                    return Results.Text("<html><body>502 Bad Gateway</body></html>", "text/html", statusCode: _failStatus);
                }
            }
            if (http.Request.Headers.Authorization != "Bearer " + Token)
            {
                return Error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports OAuth 2.0 authentication.");
            }
            return await next(context);
        }).MapRoutes(this);
    }

    private sealed record Written(string Id, Dictionary<string, string> Properties, bool New);

    internal IResult UpsertContacts(JsonNode? body)
    {
        if (body?["inputs"] is not JsonArray inputs || inputs.Count == 0) return Error(400, "VALIDATION_ERROR", "Invalid input JSON: inputs is required");
        var results = new List<object>();
        lock (_gate)
        {
            if (_invalidNext > 0)
            {
                _invalidNext--;
                return Error(400, "VALIDATION_ERROR", "Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"lifetime_value\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"lifetime_value\"}]");
            }
            foreach (var input in inputs)
            {
                if (input?["idProperty"]?.GetValue<string>() != "email") return Error(400, "VALIDATION_ERROR", "idProperty must be a unique property");
                var email = input["id"]?.GetValue<string>() ?? "";
                if (!email.Contains('@', StringComparison.Ordinal)) return Error(400, "VALIDATION_ERROR", "Property values were not valid: email is invalid");
                var properties = input["properties"] as JsonObject ?? [];
                foreach (var (name, value) in properties)
                {
                    if (!ContactProperties.Contains(name))
                    {
                        return Error(400, "VALIDATION_ERROR", $"Property values were not valid: [{{\"isValid\":false,\"message\":\"Property \\\"{name}\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"{name}\"}}]");
                    }
                    if (name == TagsProperty && TagOptions is { } options)
                    {
                        foreach (var v in (value?.GetValue<string>() ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
                        {
                            if (!options.Contains(v)) return Error(400, "VALIDATION_ERROR", $"Property values were not valid: {v} was not one of the allowed options");
                        }
                    }
                }
                var id = Find(email);
                var created = id is null;
                if (id is null)
                {
                    id = (++_nextId).ToString(CultureInfo.InvariantCulture);
                    _contacts[id] = new(StringComparer.Ordinal) { ["email"] = email };
                }
                foreach (var (name, value) in properties)
                {
                    var text = value?.GetValue<string>() ?? "";
                    if (text.Length == 0) _contacts[id].Remove(name);
                    else _contacts[id][name] = text;
                }
                results.Add(new { id, properties = _contacts[id], createdAt = "2026-11-30T12:00:00Z", updatedAt = "2026-11-30T12:00:00Z", archived = false, @new = created });
            }
        }
        return Results.Json(new { status = "COMPLETE", results, startedAt = "2026-11-30T12:00:00Z", completedAt = "2026-11-30T12:00:00Z" });
    }

    internal IResult PatchContact(string idOrEmail, string? idProperty, JsonNode? body)
    {
        lock (_gate)
        {
            var id = idProperty == "email" ? Find(idOrEmail) : _contacts.ContainsKey(idOrEmail) ? idOrEmail : null;
            if (id is null) return Error(404, "OBJECT_NOT_FOUND", "resource not found");
            var properties = body?["properties"] as JsonObject ?? [];
            if (properties["email"]?.GetValue<string>() is { } newEmail && Find(newEmail) is { } other && other != id)
            {
                return Error(409, "CONFLICT", $"Contact already exists. Existing ID: {other}");
            }
            foreach (var (name, value) in properties) _contacts[id][name] = value?.GetValue<string>() ?? "";
            return Results.Json(new { id, properties = _contacts[id] });
        }
    }

    internal IResult ListContacts(HttpContext http)
    {
        var limit = int.TryParse(http.Request.Query["limit"], CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, 100) : 10;
        limit = Math.Min(limit, PageSize);
        var after = long.TryParse(http.Request.Query["after"], CultureInfo.InvariantCulture, out var a) ? a : 0;
        var wanted = http.Request.Query["properties"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        lock (_gate)
        {
            var rest = _contacts.Select(c => (Id: long.Parse(c.Key, CultureInfo.InvariantCulture), c.Value)).Where(c => c.Id > after).OrderBy(c => c.Id).ToList();
            var page = rest.Take(limit).ToList();
            var results = page.Select(c => new
            {
                id = c.Id.ToString(CultureInfo.InvariantCulture),
                properties = c.Value.Where(p => wanted.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                archived = false,
            }).ToList();
            return rest.Count > limit
                ? Results.Json(new { results, paging = new { next = new { after = page[^1].Id.ToString(CultureInfo.InvariantCulture), link = "?after=" + page[^1].Id } } })
                : Results.Json(new { results });
        }
    }

    internal IResult Subscription(bool subscribe, JsonNode? body)
    {
        var email = body?["emailAddress"]?.GetValue<string>() ?? "";
        if (body?["subscriptionId"]?.ToString() != SubscriptionId) return Error(400, "VALIDATION_ERROR", "Subscription id is not valid");
        lock (_gate)
        {
            var current = _subscriptions.GetValueOrDefault(email);
            if (subscribe)
            {
                if (current == "SUBSCRIBED") return Error(400, "VALIDATION_ERROR", $"{email} is already subscribed to subscription {SubscriptionId}");
                if (body?["legalBasis"] is null) return Error(400, "VALIDATION_ERROR", "legalBasis is required");
                _subscriptions[email] = "SUBSCRIBED";
            }
            else
            {
                if (current == "NOT_SUBSCRIBED") return Error(400, "VALIDATION_ERROR", $"{email} is already unsubscribed from subscription {SubscriptionId}");
                _subscriptions[email] = "NOT_SUBSCRIBED";
            }
            return Results.Json(new { recipient = email, subscriptionId = SubscriptionId, status = _subscriptions[email], sourceOfStatus = "SUBSCRIPTION_STATUS" });
        }
    }

    internal IResult UpsertDeals(JsonNode? body)
    {
        if (body?["inputs"] is not JsonArray inputs || inputs.Count == 0) return Error(400, "VALIDATION_ERROR", "Invalid input JSON: inputs is required");
        var results = new List<object>();
        lock (_gate)
        {
            foreach (var input in inputs)
            {
                if (input?["idProperty"]?.GetValue<string>() != OrderIdProperty) return Error(400, "VALIDATION_ERROR", "idProperty must be a property with unique values");
                var orderId = input["id"]?.GetValue<string>() ?? "";
                var id = _deals.FirstOrDefault(d => d.Value.GetValueOrDefault(OrderIdProperty) == orderId).Key;
                var created = id is null;
                if (id is null)
                {
                    id = (++_nextId).ToString(CultureInfo.InvariantCulture);
                    _deals[id] = new(StringComparer.Ordinal) { [OrderIdProperty] = orderId };
                }
                foreach (var (name, value) in input["properties"] as JsonObject ?? []) _deals[id][name] = value?.GetValue<string>() ?? "";
                results.Add(new { id, properties = _deals[id], @new = created });
            }
        }
        return Results.Json(new { status = "COMPLETE", results });
    }

    internal IResult Associate(string dealId, string contactId)
    {
        lock (_gate)
        {
            if (!_deals.ContainsKey(dealId) || !_contacts.ContainsKey(contactId)) return Error(404, "OBJECT_NOT_FOUND", "resource not found");
            _associations.Add((dealId, contactId));
            return Results.Json(new { status = "COMPLETE", results = new[] { new { from = new { id = dealId }, to = new { id = contactId }, associationSpec = new { associationCategory = "HUBSPOT_DEFINED", associationTypeId = 3 } } } });
        }
    }

    private static IResult Error(int status, string category, string message) =>
        Results.Json(new { status = "error", message, correlationId = Guid.NewGuid(), category }, statusCode: status);

    internal static async Task<JsonNode?> Body(HttpContext http)
    {
        try
        {
            return await JsonNode.ParseAsync(http.Request.Body);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();
}

internal static class FakeHubSpotRoutes
{
    public static void MapRoutes(this RouteGroupBuilder g, FakeHubSpot fake)
    {
        g.MapPost("/crm/v3/objects/contacts/batch/upsert", async (HttpContext http) => { return fake.UpsertContacts(await FakeHubSpot.Body(http)); });
        g.MapPatch("/crm/v3/objects/contacts/{id}", async (string id, HttpContext http) => { return fake.PatchContact(id, http.Request.Query["idProperty"].ToString() is { Length: > 0 } p ? p : null, await FakeHubSpot.Body(http)); });
        g.MapGet("/crm/v3/objects/contacts", fake.ListContacts);
        g.MapPost("/communication-preferences/v3/subscribe", async (HttpContext http) => { return fake.Subscription(true, await FakeHubSpot.Body(http)); });
        g.MapPost("/communication-preferences/v3/unsubscribe", async (HttpContext http) => { return fake.Subscription(false, await FakeHubSpot.Body(http)); });
        g.MapPost("/crm/v3/objects/deals/batch/upsert", async (HttpContext http) => { return fake.UpsertDeals(await FakeHubSpot.Body(http)); });
        g.MapPut("/crm/v4/objects/deals/{dealId}/associations/default/contacts/{contactId}", fake.Associate);
    }
}
