using System.Globalization;
using System.Text.Json.Nodes;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Junction.Tests.Dispatch.Fakes;

/// <summary>
/// Kit API v4 over loopback, following developers.kit.com/api-reference: <c>X-Kit-Api-Key</c> auth
/// (401 <c>{"errors":["The access token is invalid"]}</c>), POST /v4/subscribers as an upsert by
/// email that sets the state of new subscribers only, tags listed with cursor pagination and
/// created by name, tagging by email, untagging and unsubscribing by id, errors as
/// <c>{"errors":[…]}</c>, and a 429 whose body is the plain text "Retry later" without Retry-After.
/// An <c>inactive</c> subscriber (awaiting double opt-in) becomes active only through <see cref="Confirm"/>.
/// </summary>
public sealed class FakeKit : IAsyncDisposable
{
    public const string ApiKey = "kit_test_api_key_7f3a";

    private readonly Lock _gate = new();
    private readonly Dictionary<long, Subscriber> _subscribers = [];
    private readonly Dictionary<long, string> _tags = [];
    private readonly HashSet<(long Tag, long Subscriber)> _taggings = [];
    private readonly Dictionary<(long Tag, long Subscriber), DateTimeOffset> _taggedAt = [];
    private long _nextId = 1000;
    private int _rateLimited;
    private int _failing;
    private int _failStatus = 500;
    private string? _retryAfter;
    private int _slow;
    private TimeSpan _slowBy;
    private readonly HashSet<(long Form, long Subscriber)> _formSubscriptions = [];
    private readonly List<string> _incentiveEmails = [];
    private FakeApi _api = null!;

    private sealed class Subscriber
    {
        public required long Id { get; init; }
        public required string Email { get; set; }
        public string? FirstName { get; set; }
        public required string State { get; set; }
        public Dictionary<string, string> Fields { get; } = new(StringComparer.Ordinal);
    }

    public Uri BaseUrl => _api.BaseUrl;

    public FakeApi Api => _api;

    /// <summary>GET /v4/tags page size cap (Kit allows up to 1000), small to exercise the cursor.</summary>
    public int TagPageSize { get; set; } = 1000;

    public static async Task<FakeKit> StartAsync()
    {
        var fake = new FakeKit();
        fake._api = await FakeApi.StartAsync(fake.Map);
        return fake;
    }

    /// <summary>The next <paramref name="count"/> requests get 429 "Retry later" (with a Retry-After only when given: Kit sends none).</summary>
    public void RateLimitNext(int count, string? retryAfter = null)
    {
        lock (_gate) (_rateLimited, _retryAfter) = (count, retryAfter);
    }

    public void FailNext(int count, int status = 500)
    {
        lock (_gate) (_failing, _failStatus) = (count, status);
    }

    /// <summary>The next <paramref name="count"/> requests answer only after <paramref name="delay"/> (a hung API).</summary>
    public void DelayNext(int count, TimeSpan delay)
    {
        lock (_gate) (_slow, _slowBy) = (count, delay);
    }

    /// <summary>GET /v4/tags answers 200 with an HTML page (a captive proxy or an outage page).</summary>
    public bool TagsAnswerHtml { get; set; }

    /// <summary>The creator deletes a tag in Kit's UI (with its taggings).</summary>
    public void DeleteTag(string name)
    {
        lock (_gate)
        {
            var id = _tags.FirstOrDefault(t => t.Value == name).Key;
            _tags.Remove(id);
            _taggings.RemoveWhere(t => t.Tag == id);
        }
    }

    public void AddTag(string name)
    {
        lock (_gate) _tags[++_nextId] = name;
    }

    /// <summary>A subscriber that already exists in Kit (e.g. signed up through a Kit form).</summary>
    public void AddSubscriber(string email, string state = "active", params string[] tags)
    {
        lock (_gate)
        {
            var s = new Subscriber { Id = ++_nextId, Email = email, State = state };
            _subscribers[s.Id] = s;
            foreach (var tag in tags)
            {
                var id = _tags.FirstOrDefault(t => string.Equals(t.Value, tag, StringComparison.OrdinalIgnoreCase)).Key;
                if (id == 0) _tags[id = ++_nextId] = tag;
                _taggings.Add((id, s.Id));
            }
        }
    }

    /// <summary>Someone removes a tag from one subscriber by hand in Kit's UI.</summary>
    public void UntagByHand(string email, string tag)
    {
        lock (_gate)
        {
            var id = _tags.FirstOrDefault(t => string.Equals(t.Value, tag, StringComparison.OrdinalIgnoreCase)).Key;
            if (Find(email) is { } s) _taggings.Remove((id, s.Id));
        }
    }

    /// <summary>Someone tags one subscriber by hand in Kit's UI.</summary>
    public void TagByHand(string email, string tag)
    {
        lock (_gate)
        {
            var id = _tags.FirstOrDefault(t => string.Equals(t.Value, tag, StringComparison.OrdinalIgnoreCase)).Key;
            if (id != 0 && Find(email) is { } s && _taggings.Add((id, s.Id))) _taggedAt[(id, s.Id)] = TimeProvider.System.GetUtcNow();
        }
    }

    /// <summary>GET /v4/subscribers and /v4/tags/{id}/subscribers page size cap (Kit allows up to 1000).</summary>
    public int SubscriberPageSize { get; set; } = 1000;

    /// <summary>Requests answered per path (method and path, no query): what an audit cost.</summary>
    public int Requests(string methodAndPathPrefix)
    {
        lock (_gate) return _requests.Count(r => r.StartsWith(methodAndPathPrefix, StringComparison.Ordinal));
    }

    private readonly List<string> _requests = [];

    /// <summary>Incentive (double opt-in confirmation) emails Kit sent, one per inactive subscriber added to a form.</summary>
    public IReadOnlyList<string> IncentiveEmailsSent
    {
        get
        {
            lock (_gate) return [.. _incentiveEmails];
        }
    }

    /// <summary>Forms set to single opt-in (the others are double opt-in): adding an inactive subscriber to one activates them.</summary>
    public HashSet<long> SingleOptInForms { get; } = [];

    /// <summary>The subscriber confirms through Kit (its double opt-in email): an inactive subscriber becomes active. False otherwise.</summary>
    public bool Confirm(string email)
    {
        lock (_gate)
        {
            if (Find(email) is not { State: "inactive" } s) return false;
            s.State = "active";
            return true;
        }
    }

    /// <summary>The email of a subscriber id (null when unknown): for a fault function that sees only a path.</summary>
    public string? EmailOf(long subscriberId)
    {
        lock (_gate) return _subscribers.TryGetValue(subscriberId, out var s) ? s.Email : null;
    }

    public string? StateOf(string email)
    {
        lock (_gate) return Find(email)?.State;
    }

    public IReadOnlyDictionary<string, string> FieldsOf(string email)
    {
        lock (_gate) return Find(email) is { } s ? new Dictionary<string, string>(s.Fields, StringComparer.Ordinal) : new Dictionary<string, string>();
    }

    public string? FirstNameOf(string email)
    {
        lock (_gate) return Find(email)?.FirstName;
    }

    public IReadOnlyList<string> TagsOf(string email)
    {
        lock (_gate)
        {
            if (Find(email) is not { } s) return [];
            return [.. _taggings.Where(t => t.Subscriber == s.Id).Select(t => _tags[t.Tag]).Order(StringComparer.Ordinal)];
        }
    }

    public IReadOnlyList<string> TagNames()
    {
        lock (_gate) return [.. _tags.Values.Order(StringComparer.Ordinal)];
    }

    public int SubscriberCount
    {
        get { lock (_gate) return _subscribers.Count; }
    }

    private Subscriber? Find(string email) =>
        _subscribers.Values.FirstOrDefault(s => string.Equals(s.Email, email, StringComparison.OrdinalIgnoreCase));

    private void Map(IEndpointRouteBuilder app)
    {
        var v4 = app.MapGroup("/v4");
        v4.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var delay = TimeSpan.Zero;
            lock (_gate)
            {
                if (_slow > 0)
                {
                    _slow--;
                    delay = _slowBy;
                }
            }
            if (delay > TimeSpan.Zero) await Task.Delay(delay, http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            lock (_gate)
            {
                _requests.Add($"{http.Request.Method} {http.Request.Path}");
                if (_rateLimited > 0)
                {
                    _rateLimited--;
                    if (_retryAfter is not null) http.Response.Headers.RetryAfter = _retryAfter;
                    return Results.Text("Retry later", "text/plain", statusCode: 429);
                }
                if (_failing > 0)
                {
                    _failing--;
                    return Results.Text("<html><body><h1>Internal Server Error</h1></body></html>", "text/html", statusCode: _failStatus);
                }
            }
            if (http.Request.Headers["X-Kit-Api-Key"] != ApiKey) return Errors(401, "The access token is invalid");
            return await next(context);
        });

        v4.MapPost("/subscribers", async (HttpContext http) =>
        {
            var body = await Body(http);
            var email = body?["email_address"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(email) || !email.Contains('@', StringComparison.Ordinal)) return Errors(422, "Email address is invalid");
            var state = body?["state"]?.GetValue<string>() ?? "active";
            if (state is not ("active" or "cancelled" or "bounced" or "complained" or "inactive")) return Errors(422, "State is not a valid state");
            lock (_gate)
            {
                if (FakeApi.Dropped(http))
                {
                    // Silent drop: a 201 with a subscriber as documented, kept nowhere.
                    return Results.Json(new { subscriber = Json(Find(email) ?? new Subscriber { Id = ++_nextId, Email = email, State = state }) }, statusCode: 201);
                }
                var created = false;
                if (Find(email) is not { } s)
                {
                    s = new Subscriber { Id = ++_nextId, Email = email, State = state };
                    _subscribers[s.Id] = s;
                    created = true;
                }
                // Upsert: an existing subscriber's first name and fields change, its state does not.
                if (body?["first_name"]?.GetValue<string>() is { } first) s.FirstName = first;
                if (body?["fields"] is JsonObject fields)
                {
                    foreach (var (key, value) in fields) s.Fields[key] = value?.GetValue<string>() ?? "";
                }
                return Results.Json(new { subscriber = Json(s) }, statusCode: created ? 201 : 200);
            }
        });

        // Adding a subscriber to a double opt-in form sends Kit's incentive (confirmation) email, once per form.
        v4.MapPost("/forms/{formId:long}/subscribers", async (long formId, HttpContext http) =>
        {
            var email = (await Body(http))?["email_address"]?.GetValue<string>();
            lock (_gate)
            {
                if (email is null || Find(email) is not { } s) return Errors(404, "Not Found");
                // A single opt-in form subscribes at once: an inactive subscriber becomes active (Kit: a form's opt-in setting decides).
                if (SingleOptInForms.Contains(formId) && s.State == "inactive") s.State = "active";
                else if (_formSubscriptions.Add((formId, s.Id)) && s.State == "inactive") _incentiveEmails.Add(s.Email);
                return Results.Json(new { subscriber = Json(s) }, statusCode: 201);
            }
        });

        v4.MapPut("/subscribers/{id:long}", async (long id, HttpContext http) =>
        {
            var body = await Body(http);
            lock (_gate)
            {
                if (!_subscribers.TryGetValue(id, out var s)) return Errors(404, "Not Found");
                if (body?["email_address"]?.GetValue<string>() is { } email)
                {
                    if (!email.Contains('@', StringComparison.Ordinal)) return Errors(422, "Email address is invalid");
                    if (Find(email) is { } other && other.Id != id) return Errors(422, "Email address has already been taken");
                    s.Email = email;
                }
                if (body?["first_name"]?.GetValue<string>() is { } first) s.FirstName = first;
                // Custom fields by key: a value sets it, null clears it (developers.kit.com: update a subscriber).
                if (body?["fields"] is JsonObject fields)
                {
                    foreach (var (key, value) in fields)
                    {
                        if (value is null) s.Fields.Remove(key);
                        else s.Fields[key] = value.GetValue<string>();
                    }
                }
                return Results.Json(new { subscriber = Json(s) });
            }
        });

        v4.MapGet("/subscribers", (HttpContext http) =>
        {
            var email = http.Request.Query["email_address"].ToString();
            var status = http.Request.Query["status"].ToString() is { Length: > 0 } st ? st : "active";
            lock (_gate)
            {
                var found = _subscribers.Values
                    .Where(s => email.Length == 0 || string.Equals(s.Email, email, StringComparison.OrdinalIgnoreCase))
                    .Where(s => status == "all" || s.State == status)
                    .OrderBy(s => s.Id)
                    .Select(s => (s.Id, Body: Json(s)));
                return Paged(http, found, "subscribers");
            }
        });

        // Subscribers holding a tag, each with when it was tagged (developers.kit.com: list subscribers for a tag).
        v4.MapGet("/tags/{tagId:long}/subscribers", (long tagId, HttpContext http) =>
        {
            var status = http.Request.Query["status"].ToString() is { Length: > 0 } st ? st : "active";
            lock (_gate)
            {
                if (!_tags.ContainsKey(tagId)) return Errors(404, "Not Found");
                var found = _taggings.Where(t => t.Tag == tagId).Select(t => _subscribers[t.Subscriber])
                    .Where(s => status == "all" || s.State == status)
                    .OrderBy(s => s.Id)
                    .Select(s => (s.Id, Body: (object)new
                    {
                        id = s.Id, first_name = s.FirstName, email_address = s.Email, state = s.State, created_at = "2023-02-17T11:43:55Z",
                        tagged_at = _taggedAt.TryGetValue((tagId, s.Id), out var at) ? at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "2023-02-17T11:43:55Z",
                        fields = s.Fields,
                    }));
                return Paged(http, found, "subscribers");
            }
        });

        v4.MapPost("/subscribers/{id:long}/unsubscribe", (long id) =>
        {
            lock (_gate)
            {
                if (!_subscribers.TryGetValue(id, out var s)) return Errors(404, "Not Found");
                s.State = "cancelled";
                return Results.NoContent();
            }
        });

        v4.MapGet("/tags", (HttpContext http) =>
        {
            if (TagsAnswerHtml) return Results.Text("<html><body>Maintenance</body></html>", "text/html");
            var perPage = int.TryParse(http.Request.Query["per_page"], CultureInfo.InvariantCulture, out var p) ? Math.Clamp(p, 1, 1000) : 500;
            perPage = Math.Min(perPage, TagPageSize);
            var after = long.TryParse(http.Request.Query["after"], CultureInfo.InvariantCulture, out var a) ? a : 0;
            lock (_gate)
            {
                var rest = _tags.Where(t => t.Key > after).OrderBy(t => t.Key).ToList();
                var page = rest.Take(perPage).ToList();
                var more = rest.Count > perPage;
                return Results.Json(new
                {
                    tags = page.Select(t => new { id = t.Key, name = t.Value, created_at = "2023-02-17T11:43:55Z" }),
                    pagination = Page(more, page.Count > 0 ? page[^1].Key.ToString(CultureInfo.InvariantCulture) : null),
                });
            }
        });

        v4.MapPost("/tags", async (HttpContext http) =>
        {
            var name = (await Body(http))?["name"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(name)) return Errors(422, "Name can't be blank");
            lock (_gate)
            {
                var existing = _tags.FirstOrDefault(t => string.Equals(t.Value, name, StringComparison.OrdinalIgnoreCase));
                if (existing.Key != 0) return Results.Json(new { tag = new { id = existing.Key, name = existing.Value, created_at = "2023-02-17T11:43:55Z" } });
                _tags[++_nextId] = name;
                return Results.Json(new { tag = new { id = _nextId, name, created_at = "2023-02-17T11:43:55Z" } }, statusCode: 201);
            }
        });

        v4.MapPost("/tags/{tagId:long}/subscribers", async (long tagId, HttpContext http) =>
        {
            var email = (await Body(http))?["email_address"]?.GetValue<string>() ?? "";
            lock (_gate)
            {
                if (!_tags.ContainsKey(tagId) || Find(email) is not { } s) return Errors(404, "Not Found");
                if (FakeApi.Dropped(http)) return Results.Json(new { subscriber = Json(s) }, statusCode: 201);
                var added = _taggings.Add((tagId, s.Id));
                if (added) _taggedAt[(tagId, s.Id)] = TimeProvider.System.GetUtcNow();
                return Results.Json(new { subscriber = Json(s) }, statusCode: added ? 201 : 200);
            }
        });

        v4.MapDelete("/tags/{tagId:long}/subscribers/{id:long}", (long tagId, long id, HttpContext http) =>
        {
            lock (_gate)
            {
                if (!_tags.ContainsKey(tagId) || !_subscribers.ContainsKey(id)) return Errors(404, "Not Found");
                if (FakeApi.Dropped(http)) return Results.NoContent();
                _taggings.Remove((tagId, id));
                return Results.NoContent();
            }
        });
    }

    private static object Json(Subscriber s) => new
    {
        id = s.Id,
        first_name = s.FirstName,
        email_address = s.Email,
        state = s.State,
        created_at = "2023-02-17T11:43:55Z",
        fields = s.Fields,
    };

    private IResult Paged(HttpContext http, IEnumerable<(long Id, object Body)> items, string name)
    {
        var perPage = int.TryParse(http.Request.Query["per_page"], CultureInfo.InvariantCulture, out var p) ? Math.Clamp(p, 1, 1000) : 500;
        perPage = Math.Min(perPage, SubscriberPageSize);
        var after = long.TryParse(http.Request.Query["after"], CultureInfo.InvariantCulture, out var a) ? a : 0;
        var rest = items.Where(i => i.Id > after).ToList();
        var page = rest.Take(perPage).ToList();
        return Results.Json(new Dictionary<string, object>
        {
            [name] = page.Select(i => i.Body).ToList(),
            ["pagination"] = Page(rest.Count > perPage, page.Count > 0 ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null),
        });
    }

    private static object Page(bool more, string? end) => new
    {
        has_previous_page = false,
        has_next_page = more,
        start_cursor = (string?)null,
        end_cursor = end,
        per_page = 500,
    };

    private static IResult Errors(int status, string message) => Results.Json(new { errors = new[] { message } }, statusCode: status);

    private static async Task<JsonNode?> Body(HttpContext http)
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
