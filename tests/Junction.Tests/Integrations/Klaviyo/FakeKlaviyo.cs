using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Integrations.Klaviyo;

/// <summary>
/// Klaviyo's JSON:API as documented (developers.klaviyo.com/en/reference): <c>Authorization:
/// Klaviyo-API-Key …</c> (401 <c>not_authenticated</c> otherwise) and a required <c>revision</c> header
/// (400 without one); <c>POST /api/profile-import</c> upserts by email, or updates the profile named by
/// <c>data.id</c> (201 created, 200 updated); <c>GET /api/profiles?filter=equals(email,"…")</c>;
/// subscription jobs answer 202 and set email marketing consent (subscribe also adds to the list);
/// <c>POST/DELETE /api/lists/{id}/relationships/profiles</c> 204; <c>GET /api/lists/{id}/profiles</c>
/// and <c>GET /api/profiles</c> page with <c>page[size]</c> and <c>links.next</c>'s <c>page[cursor]</c>,
/// subscriptions only with <c>additional-fields[profile]=subscriptions</c>; <c>POST /api/events</c> 202,
/// an event whose <c>unique_id</c> was seen for the same profile and metric is dropped. Errors are
/// <c>{"errors": [{id, status, code, title, detail, source}]}</c>; a 429 carries Retry-After.
/// </summary>
public sealed class FakeKlaviyo : IAsyncDisposable
{
    public const string ApiKey = "pk_test_klaviyo";
    public const string ListId = "Y6nRLr";
    public const string VipListId = "VipL1s";

    private readonly Lock _gate = new();
    private readonly List<Profile> _profiles = [];
    private readonly Dictionary<string, HashSet<string>> _lists = new(StringComparer.Ordinal) { [ListId] = [], [VipListId] = [] };
    private readonly List<(string Metric, string Email, string UniqueId, JsonObject Attributes)> _events = [];
    private int _next = 1;
    private int _rateLimitNext;
    private string _retryAfter = "1";
    private int _failNext;
    private int _failStatus = 500;

    private FakeKlaviyo() { }

    public FakeApi Api { get; private set; } = null!;

    public Uri BaseUrl => Api.BaseUrl;

    /// <summary>The largest page[size] answered (Klaviyo's list profiles allow up to 100).</summary>
    public int MaxPage { get; set; } = 100;

    /// <summary>The revision header of the last request.</summary>
    public string? LastRevision { get; private set; }

    public static async Task<FakeKlaviyo> StartAsync()
    {
        var fake = new FakeKlaviyo();
        fake.Api = await FakeApi.StartAsync(fake.Map);
        return fake;
    }

    public void RateLimitNext(int count, string retryAfter = "1")
    {
        lock (_gate)
        {
            _rateLimitNext = count;
            _retryAfter = retryAfter;
        }
    }

    public void FailNext(int count, int status = 500)
    {
        lock (_gate)
        {
            _failNext = count;
            _failStatus = status;
        }
    }

    /// <summary>A profile the account already had (a Klaviyo form, an import).</summary>
    public string AddProfile(string email, string consent = "NEVER_SUBSCRIBED", string[]? tags = null, params string[] lists)
    {
        lock (_gate)
        {
            var p = new Profile(NextId(), email) { Consent = consent };
            if (tags is not null) p.Properties["junction_tags"] = new JsonArray([.. tags.Select(t => (JsonNode)t)]);
            _profiles.Add(p);
            foreach (var list in lists) _lists[list].Add(p.Id);
            return p.Id;
        }
    }

    /// <summary>The creator creates a list in Klaviyo.</summary>
    public void AddList(string listId)
    {
        lock (_gate) _lists.TryAdd(listId, []);
    }

    public int ProfileCount
    {
        get { lock (_gate) return _profiles.Count; }
    }

    public Profile? ProfileOf(string email)
    {
        lock (_gate) return Find(email);
    }

    /// <summary>The names in the profile's junction_tags property, sorted.</summary>
    public IReadOnlyList<string> TagsOf(string email)
    {
        lock (_gate)
        {
            return Find(email)?.Properties["junction_tags"] is JsonArray tags
                ? [.. tags.Select(t => t!.GetValue<string>()).Order(StringComparer.Ordinal)]
                : [];
        }
    }

    public string? ConsentOf(string email)
    {
        lock (_gate) return Find(email)?.Consent;
    }

    public bool InList(string listId, string email)
    {
        lock (_gate) return Find(email) is { } p && _lists.TryGetValue(listId, out var members) && members.Contains(p.Id);
    }

    /// <summary>The events Klaviyo kept (duplicates by unique_id dropped): metric, email, unique_id, attributes.</summary>
    public IReadOnlyList<(string Metric, string Email, string UniqueId, JsonObject Attributes)> Events
    {
        get { lock (_gate) return [.. _events]; }
    }

    private Profile? Find(string email) => _profiles.FirstOrDefault(p => string.Equals(p.Email, email, StringComparison.OrdinalIgnoreCase));

    private string NextId() => "01KLAVIYO" + (_next++).ToString("D6", CultureInfo.InvariantCulture);

    private void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app)
    {
        app.MapPost("/api/profile-import", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var data = body?["data"];
            if (data?["type"]?.GetValue<string>() != "profile") return Error(400, "invalid", "Invalid input.", "data.type must be 'profile'", "/data/type");
            var attributes = data["attributes"];
            var email = attributes?["email"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(email) || email.Count(c => c == '@') != 1 || !email.Split('@')[1].Contains('.', StringComparison.Ordinal))
            {
                return Error(400, "invalid", "Invalid input.", $"Invalid email address: {email}", "/data/attributes/email");
            }
            var id = data["id"]?.GetValue<string>();
            var profile = id is null ? Find(email) : _profiles.FirstOrDefault(p => p.Id == id);
            if (id is not null && profile is null) return Error(404, "not_found", "Not found.", $"A profile with id {id} does not exist.", "/data/id");
            var created = profile is null;
            if (profile is null)
            {
                profile = new Profile(NextId(), email);
                _profiles.Add(profile);
            }
            else if (id is not null && Find(email) is { } other && other != profile)
            {
                return Error(409, "duplicate_profile", "Conflict.", "A profile already exists with one of these identifiers.", "/data/attributes/email");
            }
            if (FakeApi.Dropped(context)) return Json(created ? 201 : 200, ProfileDocument(profile, false));
            profile.Email = email;
            foreach (var name in new[] { "first_name", "last_name", "phone_number", "organization", "title", "external_id" })
            {
                if (attributes?[name]?.GetValue<string>() is { } value) profile.Attributes[name] = value;
            }
            // Properties merge: what is sent replaces, what is not stays.
            foreach (var (name, value) in attributes?["properties"]?.AsObject() ?? []) profile.Properties[name] = value?.DeepClone();
            return Json(created ? 201 : 200, ProfileDocument(profile, false));
        })));

        app.MapGet("/api/profiles", (HttpContext context) => Guarded(context, () =>
        {
            IEnumerable<Profile> found = _profiles;
            var filter = context.Request.Query["filter"].ToString();
            if (filter.Length > 0)
            {
                const string prefix = "equals(email,\"";
                if (!filter.StartsWith(prefix, StringComparison.Ordinal) || !filter.EndsWith("\")", StringComparison.Ordinal))
                {
                    return Error(400, "invalid", "Invalid input.", $"Invalid filter: {filter}", "/filter");
                }
                var email = filter[prefix.Length..^2];
                found = found.Where(p => string.Equals(p.Email, email, StringComparison.OrdinalIgnoreCase));
            }
            return Json(200, Paged(context, "/api/profiles", found.ToList()));
        }));

        app.MapPost("/api/profile-subscription-bulk-create-jobs", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
            Subscription(body, "profile-subscription-bulk-create-job", "SUBSCRIBED"))));

        app.MapPost("/api/profile-subscription-bulk-delete-jobs", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
            Subscription(body, "profile-subscription-bulk-delete-job", "UNSUBSCRIBED"))));

        app.MapPost("/api/lists/{id}/relationships/profiles", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
            Membership(RouteId(context), body, add: true))));

        app.MapDelete("/api/lists/{id}/relationships/profiles", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
            Membership(RouteId(context), body, add: false))));

        app.MapGet("/api/lists/{id}/profiles", (HttpContext context, string id) => Guarded(context, () =>
        {
            if (!_lists.TryGetValue(id, out var members)) return Error(404, "not_found", "Not found.", $"A list with id {id} does not exist.", "/id");
            return Json(200, Paged(context, $"/api/lists/{id}/profiles", [.. _profiles.Where(p => members.Contains(p.Id))]));
        }));

        app.MapPost("/api/events", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var attributes = body?["data"]?["attributes"]?.AsObject();
            var metric = attributes?["metric"]?["data"]?["attributes"]?["name"]?.GetValue<string>();
            if (string.IsNullOrEmpty(metric)) return Error(400, "invalid", "Invalid input.", "A metric name is required.", "/data/attributes/metric");
            var profile = attributes!["profile"]?["data"]?["attributes"];
            var email = profile?["email"]?.GetValue<string>() ?? profile?["external_id"]?.GetValue<string>();
            if (string.IsNullOrEmpty(email)) return Error(400, "invalid", "Invalid input.", "A profile identifier is required.", "/data/attributes/profile");
            var uniqueId = attributes["unique_id"]?.GetValue<string>() ?? Guid.NewGuid().ToString();
            if (!FakeApi.Dropped(context) && !_events.Any(e => e.Metric == metric && e.Email == email && e.UniqueId == uniqueId))
            {
                _events.Add((metric, email, uniqueId, (JsonObject)attributes.DeepClone()));
            }
            return Results.StatusCode(202);
        })));
    }

    private IResult Subscription(JsonNode? body, string type, string consent)
    {
        var data = body?["data"];
        if (data?["type"]?.GetValue<string>() != type) return Error(400, "invalid", "Invalid input.", $"data.type must be '{type}'", "/data/type");
        var list = data["relationships"]?["list"]?["data"]?["id"]?.GetValue<string>();
        if (list is not null && !_lists.ContainsKey(list)) return Error(404, "not_found", "Not found.", $"A list with id {list} does not exist.", "/data/relationships/list");
        foreach (var p in data["attributes"]?["profiles"]?["data"]?.AsArray() ?? [])
        {
            var email = p?["attributes"]?["email"]?.GetValue<string>();
            if (email is null) continue;
            var given = p!["attributes"]?["subscriptions"]?["email"]?["marketing"]?["consent"]?.GetValue<string>();
            if (given != consent) return Error(400, "invalid", "Invalid input.", $"consent must be {consent}", "/data/attributes/profiles");
            var profile = Find(email);
            if (profile is null)
            {
                profile = new Profile(NextId(), email);
                _profiles.Add(profile);
            }
            profile.Consent = consent;
            if (consent == "SUBSCRIBED" && list is not null) _lists[list].Add(profile.Id);
        }
        return Results.StatusCode(202);
    }

    private static string RouteId(HttpContext context) => context.Request.RouteValues["id"]?.ToString() ?? "";

    private IResult Membership(string listId, JsonNode? body, bool add)
    {
        if (!_lists.TryGetValue(listId, out var members)) return Error(404, "not_found", "Not found.", $"A list with id {listId} does not exist.", "/id");
        foreach (var p in body?["data"]?.AsArray() ?? [])
        {
            var id = p?["id"]?.GetValue<string>();
            if (_profiles.All(x => x.Id != id)) return Error(400, "invalid", "Invalid input.", $"Profile {id} does not exist.", "/data");
            if (add) members.Add(id!);
            else members.Remove(id!);
        }
        return Results.StatusCode(204);
    }

    private JsonObject Paged(HttpContext context, string path, List<Profile> all)
    {
        var q = context.Request.Query;
        var size = int.TryParse(q["page[size]"], CultureInfo.InvariantCulture, out var s) ? Math.Clamp(s, 1, MaxPage) : 20;
        var offset = q["page[cursor]"].ToString() is { Length: > 0 } cursor
            ? int.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(cursor)), CultureInfo.InvariantCulture) : 0;
        var withSubscriptions = q["additional-fields[profile]"].ToString().Contains("subscriptions", StringComparison.Ordinal);
        var page = all.Skip(offset).Take(size).ToList();
        var links = new JsonObject { ["self"] = new Uri(BaseUrl, path).ToString(), ["next"] = null, ["prev"] = null };
        if (offset + size < all.Count)
        {
            var next = Convert.ToBase64String(Encoding.UTF8.GetBytes((offset + size).ToString(CultureInfo.InvariantCulture)));
            links["next"] = new Uri(BaseUrl, $"{path}?page%5Bcursor%5D={Uri.EscapeDataString(next)}&page%5Bsize%5D={size}").ToString();
        }
        return new JsonObject { ["data"] = new JsonArray([.. page.Select(p => (JsonNode)ProfileResource(p, withSubscriptions))]), ["links"] = links };
    }

    private static JsonObject ProfileDocument(Profile p, bool withSubscriptions) => new() { ["data"] = ProfileResource(p, withSubscriptions) };

    private static JsonObject ProfileResource(Profile p, bool withSubscriptions)
    {
        var attributes = new JsonObject { ["email"] = p.Email };
        foreach (var (name, value) in p.Attributes) attributes[name] = value;
        attributes["properties"] = p.Properties.DeepClone();
        if (withSubscriptions)
        {
            attributes["subscriptions"] = new JsonObject
            {
                ["email"] = new JsonObject { ["marketing"] = new JsonObject { ["can_receive_email_marketing"] = p.Consent == "SUBSCRIBED", ["consent"] = p.Consent } },
            };
        }
        return new JsonObject { ["type"] = "profile", ["id"] = p.Id, ["attributes"] = attributes };
    }

    private IResult Guarded(HttpContext context, Func<IResult> handler)
    {
        lock (_gate)
        {
            if (context.Request.Headers.Authorization.ToString() != "Klaviyo-API-Key " + ApiKey)
            {
                return Error(401, "not_authenticated", "Authentication credentials were not provided.", "Missing or invalid private key.", "/data/");
            }
            LastRevision = context.Request.Headers["revision"].ToString();
            if (LastRevision.Length == 0) return Error(400, "invalid", "Invalid input.", "The revision header is required.", "/headers/revision");
            if (_rateLimitNext > 0)
            {
                _rateLimitNext--;
                context.Response.Headers["Retry-After"] = _retryAfter;
                return Error(429, "throttled", "Request was throttled.", $"Request was throttled. Expected available in {_retryAfter} second.", "/data/");
            }
            if (_failNext > 0)
            {
                _failNext--;
                return Error(_failStatus, "error", "A server error occurred.", "A server error occurred.", "/data/");
            }
            return handler();
        }
    }

    private async Task<IResult> GuardedBody(HttpContext context, Func<JsonNode?, IResult> handler)
    {
        var text = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        JsonNode? body;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return Error(400, "parse_error", "Malformed request.", "JSON parse error", "/data/");
        }
        return Guarded(context, () => handler(body));
    }

    private static IResult Json(int status, JsonNode body) => Results.Text(body.ToJsonString(), "application/vnd.api+json", statusCode: status);

    private static IResult Error(int status, string code, string title, string detail, string pointer) => Json(status, new JsonObject
    {
        ["errors"] = new JsonArray
        {
            new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["status"] = status, ["code"] = code, ["title"] = title, ["detail"] = detail,
                ["source"] = new JsonObject { ["pointer"] = pointer },
            },
        },
    });

    public ValueTask DisposeAsync() => Api.DisposeAsync();

    public sealed class Profile(string id, string email)
    {
        public string Id { get; } = id;
        public string Email { get; set; } = email;
        public string Consent { get; set; } = "NEVER_SUBSCRIBED";
        public Dictionary<string, string> Attributes { get; } = new(StringComparer.Ordinal);
        public JsonObject Properties { get; } = [];
    }
}
