using System.Globalization;
using System.Text.Json.Nodes;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Integrations.Kajabi;

/// <summary>
/// Kajabi Public API v1 as documented (developers.kajabi.com/api-reference, openapi 1.1.0):
/// <c>POST /v1/oauth/token</c> (form, client credentials) → <c>{access_token, refresh_token,
/// token_type, expires_in}</c>, 401 <c>{"error": "invalid_client"}</c>; every other call needs
/// <c>Authorization: Bearer</c> (401 JSON:API errors otherwise) and a JSON:API body
/// (<c>application/vnd.api+json</c>, 415 otherwise); <c>GET /v1/contacts</c> with
/// <c>filter[site_id]</c>, <c>filter[email_contains]</c>, <c>filter[has_offer_id]</c>,
/// <c>page[number]</c>/<c>page[size]</c> → <c>{data, links, meta: {total_pages, total_count, current_page}}</c>;
/// <c>POST /v1/contacts</c> (400 without the site relationship, 422 for a taken email);
/// <c>GET|POST|DELETE /v1/contacts/{id}/relationships/offers</c> → the contact's offers.
/// A 429 carries Retry-After (seconds).
/// </summary>
public sealed class FakeKajabi : IAsyncDisposable
{
    public const string ClientId = "kajabi-client";
    public const string ClientSecret = "kajabi-secret";
    public const string SiteId = "77";
    private const string JsonApi = "application/vnd.api+json";

    private readonly Lock _gate = new();
    private readonly HashSet<string> _tokens = [];
    private readonly List<Contact> _contacts = [];
    private readonly HashSet<string> _offers = [];
    private long _nextContactId = 400;
    private int _tokenCount;
    private int _rateLimitNext;
    private int _failNext;
    private int _failStatus = 500;

    private FakeKajabi(IEnumerable<string> offers) => _offers.UnionWith(offers);

    public FakeApi Api { get; private set; } = null!;

    public Uri BaseUrl => Api.BaseUrl;

    /// <summary>Seconds in Retry-After on a 429.</summary>
    public int RetryAfterSeconds { get; set; } = 30;

    public int PageSize { get; set; } = 100;

    /// <summary>Tokens issued so far.</summary>
    public int TokensIssued
    {
        get { lock (_gate) return _tokenCount; }
    }

    /// <summary>Grant calls that granted at least one offer (each may send a welcome email).</summary>
    public int Grants { get; private set; }

    public static async Task<FakeKajabi> StartAsync(params string[] offers)
    {
        var fake = new FakeKajabi(offers);
        fake.Api = await FakeApi.StartAsync(fake.Map);
        return fake;
    }

    /// <summary>The owner rotates the API key: every token issued so far stops working.</summary>
    public void InvalidateTokens()
    {
        lock (_gate) _tokens.Clear();
    }

    public void RateLimitNext(int count)
    {
        lock (_gate) _rateLimitNext = count;
    }

    public void FailNext(int count, int status = 500)
    {
        lock (_gate)
        {
            _failNext = count;
            _failStatus = status;
        }
    }

    public void AddOffer(string offer)
    {
        lock (_gate) _offers.Add(offer);
    }

    public string AddContact(string email, params string[] offers)
    {
        lock (_gate)
        {
            var c = new Contact((_nextContactId++).ToString(CultureInfo.InvariantCulture), email, null);
            c.Offers.UnionWith(offers);
            _contacts.Add(c);
            return c.Id;
        }
    }

    public int ContactCount
    {
        get { lock (_gate) return _contacts.Count; }
    }

    public Contact? ContactOf(string email)
    {
        lock (_gate) return _contacts.FirstOrDefault(c => string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The offers the contact with this email holds, sorted.</summary>
    public IReadOnlyList<string> OffersOf(string email)
    {
        lock (_gate) return ContactOf(email)?.Offers.Order(StringComparer.Ordinal).ToList() ?? [];
    }

    private void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/oauth/token", (Func<HttpContext, Task<IResult>>)(async context =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            lock (_gate)
            {
                if (form["grant_type"] != "client_credentials") return Json(400, new JsonObject { ["error"] = "unsupported_grant_type" }, "application/json");
                if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret) return Json(401, new JsonObject { ["error"] = "invalid_client" }, "application/json");
                var token = $"tok_{++_tokenCount}";
                _tokens.Add(token);
                return Json(200, new JsonObject { ["access_token"] = token, ["refresh_token"] = "r" + token, ["token_type"] = "Bearer", ["expires_in"] = 7200 }, "application/json");
            }
        }));

        app.MapGet("/v1/contacts", (Func<HttpContext, IResult>)(context => Guarded(context, null, _ =>
        {
            var q = context.Request.Query;
            IEnumerable<Contact> found = _contacts;
            if (q["filter[site_id]"].ToString() is { Length: > 0 } site && site != SiteId) found = [];
            if (q["filter[email_contains]"].ToString() is { Length: > 0 } part) found = found.Where(c => c.Email.Contains(part, StringComparison.OrdinalIgnoreCase));
            if (q["filter[has_offer_id]"].ToString() is { Length: > 0 } offer) found = found.Where(c => c.Offers.Contains(offer));
            var all = found.OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
            var size = int.TryParse(q["page[size]"], CultureInfo.InvariantCulture, out var s) ? Math.Clamp(s, 1, 100) : 25;
            size = Math.Min(size, PageSize);
            var number = int.TryParse(q["page[number]"], CultureInfo.InvariantCulture, out var n) ? Math.Max(1, n) : 1;
            var pages = Math.Max(1, (all.Count + size - 1) / size);
            var data = new JsonArray();
            foreach (var c in all.Skip((number - 1) * size).Take(size)) data.Add(ContactJson(c));
            var links = new JsonObject { ["self"] = $"/v1/contacts?page[number]={number}" };
            if (number < pages) links["next"] = $"/v1/contacts?page[number]={number + 1}";
            return Json(200, new JsonObject { ["data"] = data, ["links"] = links, ["meta"] = new JsonObject { ["total_pages"] = pages, ["total_count"] = all.Count, ["current_page"] = number } });
        })));

        app.MapPost("/v1/contacts", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var attributes = body?["data"]?["attributes"];
            var site = body?["data"]?["relationships"]?["site"]?["data"]?["id"]?.GetValue<string>();
            if (site is null) return Errors(400, "Bad Request", "Site relationship is required");
            if (site != SiteId) return Errors(404, "Not Found", "Site not found");
            var email = attributes?["email"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(email)) return Errors(422, "Unprocessable Entity", "Email can't be blank");
            if (_contacts.Any(c => string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase))) return Errors(422, "Unprocessable Entity", "Email has already been taken");
            var contact = new Contact((_nextContactId++).ToString(CultureInfo.InvariantCulture), email, attributes?["name"]?.GetValue<string>());
            if (!FakeApi.Dropped(context)) _contacts.Add(contact);
            return Json(201, new JsonObject { ["data"] = ContactJson(contact) });
        })));

        // RequestDelegate handlers: the route-handler analyzer of this SDK crashes (AD0001) on these three as lambdas.
        const string offers = "/v1/contacts/{contactId:long}/relationships/offers";
        app.MapGet(offers, Handle(context => Task.FromResult(Guarded(context, null, _ =>
            _contacts.FirstOrDefault(c => c.Id == ContactId(context)) is { } c ? Json(200, OffersJson(c)) : Errors(404, "Not Found", "Contact not found")))));
        app.MapPost(offers, Handle(context => GuardedBody(context, body => Grant(context, body))));
        app.MapDelete(offers, Handle(context => GuardedBody(context, body => Revoke(context, body))));
    }

    private static RequestDelegate Handle(Func<HttpContext, Task<IResult>> handler) => async context => await (await handler(context)).ExecuteAsync(context);

    private static string ContactId(HttpContext context) => context.Request.RouteValues["contactId"]?.ToString() ?? "";

    private IResult Grant(HttpContext context, JsonNode? body)
    {
        var c = _contacts.FirstOrDefault(x => x.Id == ContactId(context));
        if (c is null) return Errors(404, "Not Found", "Contact not found");
        var ids = Ids(body);
        if (ids is null) return Errors(400, "Bad Request", "data must be a list of offer resource identifiers");
        var unknown = ids.FirstOrDefault(o => !_offers.Contains(o));
        if (unknown is not null) return Errors(404, "Not Found", $"Offer {unknown} not found");
        if (FakeApi.Dropped(context)) return Json(200, OffersJson(c));
        var added = false;
        foreach (var o in ids) added |= c.Offers.Add(o);
        if (added) Grants++;
        return Json(200, OffersJson(c));
    }

    private IResult Revoke(HttpContext context, JsonNode? body)
    {
        var c = _contacts.FirstOrDefault(x => x.Id == ContactId(context));
        if (c is null) return Errors(404, "Not Found", "Contact not found");
        var ids = Ids(body);
        if (ids is null) return Errors(400, "Bad Request", "data must be a list of offer resource identifiers");
        if (!FakeApi.Dropped(context)) c.Offers.ExceptWith(ids);
        return Json(200, OffersJson(c));
    }

    private static List<string>? Ids(JsonNode? body)
    {
        if (body?["data"] is not JsonArray data) return null;
        var ids = new List<string>();
        foreach (var item in data)
        {
            if (item?["type"]?.GetValue<string>() != "offers" || item["id"] is not JsonValue v || !v.TryGetValue<string>(out var id)) return null;
            ids.Add(id);
        }
        return ids;
    }

    private static JsonObject ContactJson(Contact c) => new()
    {
        ["id"] = c.Id, ["type"] = "contacts",
        ["attributes"] = new JsonObject { ["name"] = c.Name, ["email"] = c.Email, ["subscribed"] = false, ["created_at"] = "2026-01-15T10:30:00Z" },
        ["relationships"] = new JsonObject { ["site"] = new JsonObject { ["data"] = new JsonObject { ["id"] = SiteId, ["type"] = "sites" } } },
    };

    private static JsonObject OffersJson(Contact c)
    {
        var data = new JsonArray();
        foreach (var o in c.Offers.Order(StringComparer.Ordinal)) data.Add(new JsonObject { ["type"] = "offers", ["id"] = o });
        return new JsonObject { ["data"] = data, ["links"] = new JsonObject { ["self"] = $"/v1/contacts/{c.Id}/relationships/offers" } };
    }

    private IResult Guarded(HttpContext context, string? body, Func<string?, IResult> handler)
    {
        lock (_gate)
        {
            var auth = context.Request.Headers.Authorization.ToString();
            if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.Contains(auth["Bearer ".Length..]))
            {
                return Errors(401, "Unauthorized", "Authorization header is missing or invalid");
            }
            if (_rateLimitNext > 0)
            {
                _rateLimitNext--;
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Errors(429, "Too Many Requests", "Rate limit exceeded");
            }
            if (_failNext > 0)
            {
                _failNext--;
                return Errors(_failStatus, "Internal Server Error", "Something went wrong");
            }
            return handler(body);
        }
    }

    private async Task<IResult> GuardedBody(HttpContext context, Func<JsonNode?, IResult> handler)
    {
        var text = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        if (!(context.Request.ContentType ?? "").StartsWith(JsonApi, StringComparison.Ordinal))
        {
            return Errors(415, "Unsupported Media Type", $"Content-Type must be {JsonApi}");
        }
        JsonNode? body;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return Errors(400, "Bad Request", "Invalid JSON");
        }
        return Guarded(context, text, _ => handler(body));
    }

    private static IResult Errors(int status, string title, string detail) =>
        Json(status, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["status"] = status.ToString(CultureInfo.InvariantCulture), ["title"] = title, ["detail"] = detail }) });

    private static IResult Json(int status, JsonNode body, string contentType = JsonApi) => Results.Text(body.ToJsonString(), contentType, statusCode: status);

    public ValueTask DisposeAsync() => Api.DisposeAsync();

    public sealed record Contact(string Id, string Email, string? Name)
    {
        public HashSet<string> Offers { get; } = new(StringComparer.Ordinal);
    }
}
