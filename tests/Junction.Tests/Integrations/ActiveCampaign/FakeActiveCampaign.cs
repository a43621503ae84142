using System.Globalization;
using System.Text.Json.Nodes;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Integrations.ActiveCampaign;

/// <summary>
/// ActiveCampaign API v3 as documented (developers.activecampaign.com/reference): the
/// <c>Api-Token</c> header (403 <c>{"message"}</c> without a valid one); ids as strings;
/// <c>POST /api/3/contact/sync</c> upserts by email (201 created, 200 updated, 422 for a bad email
/// or an unknown custom field); <c>GET /api/3/contacts</c> filters by email, tagid, listid and status
/// with limit/offset and <c>meta.total</c>; tags searched by substring; <c>POST /api/3/contactTags</c>
/// answers the existing contactTag when the contact already has the tag; <c>DELETE
/// /api/3/contactTags/{id}</c> 200 <c>{}</c> or 404; <c>POST /api/3/contactLists</c> status 1/2. Errors
/// are <c>{"errors": [{"title", "detail", "code"}]}</c> (422) or <c>{"message"}</c>; a 429 carries
/// Retry-After, RateLimit-Limit and RateLimit-Remaining (the "Rate Limits" page).
/// </summary>
public sealed class FakeActiveCampaign : IAsyncDisposable
{
    public const string ApiKey = "ac-test-token";
    public const string ListId = "3";

    private readonly Lock _gate = new();
    private readonly List<Contact> _contacts = [];
    private readonly List<(string Id, string Name)> _tags = [];
    private readonly List<(string Id, string Contact, string Tag)> _contactTags = [];
    private readonly Dictionary<(string Contact, string List), int> _lists = [];
    private readonly List<(string Id, string Title, string Perstag)> _fields = [];
    private int _next = 100;
    private int _rateLimitNext;
    private string _retryAfter = "1";
    private int _failNext;
    private int _failStatus = 500;

    private FakeActiveCampaign() { }

    public FakeApi Api { get; private set; } = null!;

    public Uri BaseUrl => Api.BaseUrl;

    /// <summary>Largest page GET /api/3/contacts and /api/3/fields answer (ActiveCampaign caps limit at 100).</summary>
    public int MaxPage { get; set; } = 100;

    public static async Task<FakeActiveCampaign> StartAsync()
    {
        var fake = new FakeActiveCampaign();
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

    public string AddField(string title, string perstag)
    {
        lock (_gate)
        {
            var id = NextId();
            _fields.Add((id, title, perstag));
            return id;
        }
    }

    public string AddTag(string name)
    {
        lock (_gate)
        {
            var id = NextId();
            _tags.Add((id, name));
            return id;
        }
    }

    /// <summary>A contact the account already had (a form there, an import), optionally on the list with a status.</summary>
    public string AddContact(string email, int? listStatus = null, params string[] tags)
    {
        lock (_gate)
        {
            var c = new Contact(NextId(), email);
            _contacts.Add(c);
            if (listStatus is { } s) _lists[(c.Id, ListId)] = s;
            foreach (var tag in tags)
            {
                var tagId = _tags.FirstOrDefault(t => t.Name == tag).Id ?? AddTag(tag);
                _contactTags.Add((NextId(), c.Id, tagId));
            }
            return c.Id;
        }
    }

    public int ContactCount
    {
        get { lock (_gate) return _contacts.Count; }
    }

    public int TagCount(string name)
    {
        lock (_gate) return _tags.Count(t => t.Name == name);
    }

    /// <summary>The tag names the contact with this email holds, sorted.</summary>
    public IReadOnlyList<string> TagsOf(string email)
    {
        lock (_gate)
        {
            if (Find(email) is not { } c) return [];
            return [.. _contactTags.Where(ct => ct.Contact == c.Id).Select(ct => _tags.First(t => t.Id == ct.Tag).Name).Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>How many contactTag records link this contact to this tag (more than one would be a double add).</summary>
    public int ContactTagCount(string email, string tag)
    {
        lock (_gate)
        {
            if (Find(email) is not { } c) return 0;
            var tagId = _tags.FirstOrDefault(t => t.Name == tag).Id;
            return _contactTags.Count(ct => ct.Contact == c.Id && ct.Tag == tagId);
        }
    }

    /// <summary>The list status (1 active, 2 unsubscribed …) of the contact, or null when not on the list.</summary>
    public int? ListStatusOf(string email)
    {
        lock (_gate) return Find(email) is { } c && _lists.TryGetValue((c.Id, ListId), out var s) ? s : null;
    }

    public Contact? ContactOf(string email)
    {
        lock (_gate) return Find(email);
    }

    private Contact? Find(string email) => _contacts.FirstOrDefault(c => string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase));

    private string NextId() => (_next++).ToString(CultureInfo.InvariantCulture);

    private void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app)
    {
        app.MapPost("/api/3/contact/sync", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var c = body?["contact"];
            var email = c?["email"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(email) || !email.Contains('@', StringComparison.Ordinal))
            {
                return Errors(422, "Contact Email Address is not valid.", "email_invalid");
            }
            foreach (var fv in c?["fieldValues"]?.AsArray() ?? [])
            {
                var field = fv?["field"]?.ToString();
                if (_fields.All(f => f.Id != field)) return Errors(422, $"Field with id {field} does not exist.", "field_missing");
            }
            var contact = Find(email);
            var created = contact is null;
            if (contact is null)
            {
                contact = new Contact(NextId(), email);
                _contacts.Add(contact);
            }
            if (FakeApi.Dropped(context)) return Json(created ? 201 : 200, new JsonObject { ["contact"] = ContactJson(contact) });
            if (c?["firstName"]?.GetValue<string>() is { } first) contact.FirstName = first;
            if (c?["lastName"]?.GetValue<string>() is { } last) contact.LastName = last;
            if (c?["phone"]?.GetValue<string>() is { } phone) contact.Phone = phone;
            foreach (var fv in c?["fieldValues"]?.AsArray() ?? []) contact.Fields[fv!["field"]!.ToString()] = fv["value"]?.ToString() ?? "";
            return Json(created ? 201 : 200, new JsonObject { ["fieldValues"] = new JsonArray(), ["contact"] = ContactJson(contact) });
        })));

        app.MapGet("/api/3/contacts", (HttpContext context) => Guarded(context, () =>
        {
            var q = context.Request.Query;
            IEnumerable<Contact> found = _contacts;
            if (q["email"].ToString() is { Length: > 0 } email) found = found.Where(c => string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase));
            if (q["tagid"].ToString() is { Length: > 0 } tagId) found = found.Where(c => _contactTags.Any(ct => ct.Contact == c.Id && ct.Tag == tagId));
            if (q["listid"].ToString() is { Length: > 0 } listId)
            {
                var status = int.TryParse(q["status"], CultureInfo.InvariantCulture, out var s) ? s : -1;
                found = found.Where(c => _lists.TryGetValue((c.Id, listId), out var st) && (status == -1 || st == status));
            }
            var all = found.OrderBy(c => int.Parse(c.Id, CultureInfo.InvariantCulture)).ToList();
            var page = Page(context, all);
            return Json(200, new JsonObject
            {
                ["scoredContacts"] = new JsonArray(),
                ["contacts"] = new JsonArray([.. page.Select(c => (JsonNode)ContactJson(c))]),
                ["meta"] = new JsonObject { ["total"] = all.Count.ToString(CultureInfo.InvariantCulture), ["page_input"] = new JsonObject() },
            });
        }));

        app.MapPut("/api/3/contacts/{id}", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var id = RouteId(context);
            if (_contacts.FirstOrDefault(c => c.Id == id) is not { } contact) return Message(404, $"No Result found for Subscriber with id {id}");
            if (body?["contact"]?["email"]?.GetValue<string>() is { } email)
            {
                if (_contacts.Any(c => c.Id != id && string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase)))
                {
                    return Errors(422, "Email address already exists in the system.", "duplicate");
                }
                contact.Email = email;
            }
            return Json(200, new JsonObject { ["contact"] = ContactJson(contact) });
        })));

        app.MapGet("/api/3/contacts/{id}/contactTags", (HttpContext context, string id) => Guarded(context, () =>
        {
            if (_contacts.All(c => c.Id != id)) return Message(404, $"No Result found for Subscriber with id {id}");
            return Json(200, new JsonObject
            {
                ["contactTags"] = new JsonArray([.. _contactTags.Where(ct => ct.Contact == id).Select(ct => (JsonNode)ContactTagJson(ct))]),
            });
        }));

        app.MapGet("/api/3/tags", (HttpContext context) => Guarded(context, () =>
        {
            var search = context.Request.Query["search"].ToString();
            var all = _tags.Where(t => t.Name.Contains(search, StringComparison.OrdinalIgnoreCase)).ToList();
            var page = Page(context, all);
            return Json(200, new JsonObject
            {
                ["tags"] = new JsonArray([.. page.Select(t => (JsonNode)new JsonObject { ["tagType"] = "contact", ["tag"] = t.Name, ["description"] = "", ["id"] = t.Id })]),
                ["meta"] = new JsonObject { ["total"] = all.Count.ToString(CultureInfo.InvariantCulture) },
            });
        }));

        app.MapPost("/api/3/tags", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var name = body?["tag"]?["tag"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(name)) return Errors(422, "Tag name is required.", "field_missing");
            var id = NextId();
            _tags.Add((id, name));
            return Json(201, new JsonObject { ["tag"] = new JsonObject { ["tag"] = name, ["tagType"] = "contact", ["id"] = id } });
        })));

        app.MapPost("/api/3/contactTags", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var contact = body?["contactTag"]?["contact"]?.ToString();
            var tag = body?["contactTag"]?["tag"]?.ToString();
            if (_contacts.All(c => c.Id != contact)) return Message(404, $"No Result found for Subscriber with id {contact}");
            if (_tags.All(t => t.Id != tag)) return Message(404, $"No Result found for Tag with id {tag}");
            if (_contactTags.FirstOrDefault(ct => ct.Contact == contact && ct.Tag == tag) is { Id: not null } existing)
            {
                return Json(200, new JsonObject { ["contactTag"] = ContactTagJson(existing) });
            }
            var added = (NextId(), contact!, tag!);
            if (!FakeApi.Dropped(context)) _contactTags.Add(added);
            return Json(201, new JsonObject { ["contactTag"] = ContactTagJson(added) });
        })));

        // developers.activecampaign.com "Delete a contact": gone with its tags and list memberships; unknown is 404.
        app.MapDelete("/api/3/contacts/{id}", (HttpContext context, string id) => Guarded(context, () =>
        {
            if (_contacts.FirstOrDefault(c => c.Id == id) is not { } contact) return Message(404, $"No Result found for Subscriber with id {id}");
            _contacts.Remove(contact);
            _contactTags.RemoveAll(ct => ct.Contact == id);
            foreach (var key in _lists.Keys.Where(k => k.Contact == id).ToList()) _lists.Remove(key);
            return Json(200, new JsonObject());
        }));

        app.MapDelete("/api/3/contactTags/{id}", (HttpContext context, string id) => Guarded(context, () =>
        {
            var index = _contactTags.FindIndex(ct => ct.Id == id);
            if (index < 0) return Message(404, $"No Result found for ContactTag with id {id}");
            _contactTags.RemoveAt(index);
            return Json(200, new JsonObject());
        }));

        app.MapPost("/api/3/contactLists", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var cl = body?["contactList"];
            var contact = cl?["contact"]?.ToString();
            var list = cl?["list"]?.ToString();
            var status = cl?["status"]?.GetValue<int>();
            if (_contacts.All(c => c.Id != contact)) return Message(404, $"No Result found for Subscriber with id {contact}");
            if (list != ListId) return Message(404, $"No Result found for List with id {list}");
            if (status is not (1 or 2)) return Errors(422, "Status must be 1 (subscribed) or 2 (unsubscribed).", "invalid");
            _lists[(contact!, list)] = status.Value;
            return Json(201, new JsonObject { ["contactList"] = new JsonObject { ["contact"] = contact, ["list"] = list, ["status"] = status.Value.ToString(CultureInfo.InvariantCulture) } });
        })));

        app.MapGet("/api/3/fields", (HttpContext context) => Guarded(context, () =>
        {
            var page = Page(context, _fields);
            return Json(200, new JsonObject
            {
                ["fields"] = new JsonArray([.. page.Select(f => (JsonNode)new JsonObject { ["title"] = f.Title, ["perstag"] = f.Perstag, ["type"] = "text", ["id"] = f.Id })]),
                ["meta"] = new JsonObject { ["total"] = _fields.Count.ToString(CultureInfo.InvariantCulture) },
            });
        }));
    }

    private static string RouteId(HttpContext context) => context.Request.RouteValues["id"]?.ToString() ?? "";

    private List<T> Page<T>(HttpContext context, List<T> all)
    {
        var limit = int.TryParse(context.Request.Query["limit"], CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, MaxPage) : 20;
        var offset = int.TryParse(context.Request.Query["offset"], CultureInfo.InvariantCulture, out var o) ? Math.Max(0, o) : 0;
        return [.. all.Skip(offset).Take(limit)];
    }

    private static JsonObject ContactJson(Contact c) => new()
    {
        ["email"] = c.Email, ["firstName"] = c.FirstName ?? "", ["lastName"] = c.LastName ?? "", ["phone"] = c.Phone ?? "", ["id"] = c.Id,
    };

    private static JsonObject ContactTagJson((string Id, string Contact, string Tag) ct) => new() { ["contact"] = ct.Contact, ["tag"] = ct.Tag, ["id"] = ct.Id };

    private IResult Guarded(HttpContext context, Func<IResult> handler)
    {
        lock (_gate)
        {
            if (context.Request.Headers["Api-Token"].ToString() != ApiKey) return Message(403, "You are not authorized to access this resource");
            if (_rateLimitNext > 0)
            {
                _rateLimitNext--;
                context.Response.Headers["Retry-After"] = _retryAfter;
                context.Response.Headers["RateLimit-Limit"] = "5";
                context.Response.Headers["RateLimit-Remaining"] = "0";
                return Message(429, "Too Many Requests");
            }
            if (_failNext > 0)
            {
                _failNext--;
                return Message(_failStatus, "Internal Server Error");
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
            return Message(400, "Invalid JSON");
        }
        return Guarded(context, () => handler(body));
    }

    private static IResult Json(int status, JsonNode body) => Results.Text(body.ToJsonString(), "application/json", statusCode: status);

    private static IResult Message(int status, string message) => Json(status, new JsonObject { ["message"] = message });

    private static IResult Errors(int status, string title, string code) =>
        Json(status, new JsonObject { ["errors"] = new JsonArray { new JsonObject { ["title"] = title, ["detail"] = "", ["code"] = code } } });

    public ValueTask DisposeAsync() => Api.DisposeAsync();

    public sealed class Contact(string id, string email)
    {
        public string Id { get; } = id;
        public string Email { get; set; } = email;
        public string? FirstName { get; set; }
        public string? LastName { get; set; }
        public string? Phone { get; set; }
        public Dictionary<string, string> Fields { get; } = new(StringComparer.Ordinal);
    }
}
