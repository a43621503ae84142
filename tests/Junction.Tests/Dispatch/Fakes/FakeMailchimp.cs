using System.Text;
using System.Text.Json.Nodes;
using Junction.Integrations.Mailchimp;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Junction.Tests.Dispatch.Fakes;

/// <summary>
/// Mailchimp Marketing API 3.0 over loopback, following mailchimp.com/developer/marketing: HTTP
/// Basic auth with the API key as password, members addressed by the MD5 of the lower-cased email,
/// PUT as an upsert (<c>status_if_new</c> for new members, <c>status</c> for existing ones), the
/// member tags endpoint (active/inactive, 204), and errors as application/problem+json with
/// <c>title</c>: "API Key Invalid", "Resource Not Found", "Invalid Resource", "Member In
/// Compliance State" (re-subscribing an unsubscribed member), "Forgotten Email Not Subscribed",
/// "Too Many Requests". A member put in "pending" (double opt-in) is sent a confirmation email and
/// stays pending until <see cref="Confirm"/> (the click on its link) makes it "subscribed".
/// </summary>
public sealed class FakeMailchimp : IAsyncDisposable
{
    public const string ApiKey = "0123456789abcdef0123456789abcdef-us21";
    public const string ListId = "a1b2c3d4e5";

    private static readonly string[] Statuses = ["subscribed", "unsubscribed", "cleaned", "pending", "transactional"];

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly HashSet<string> _forgotten = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _confirmations = [];
    private int _rateLimited;
    private int _failing;
    private int _failStatus = 500;
    private string? _retryAfter;
    private FakeApi _api = null!;

    private sealed class Member
    {
        public required string Email { get; init; }
        public required string Status { get; set; }
        public Dictionary<string, string> MergeFields { get; } = new(StringComparer.Ordinal);
        public SortedSet<string> Tags { get; } = new(StringComparer.Ordinal);
    }

    public Uri BaseUrl => _api.BaseUrl;

    public FakeApi Api => _api;

    public static async Task<FakeMailchimp> StartAsync()
    {
        var fake = new FakeMailchimp();
        fake._api = await FakeApi.StartAsync(fake.Map);
        return fake;
    }

    /// <summary>The next <paramref name="count"/> requests get 429 (Mailchimp documents no Retry-After; one is sent only when given).</summary>
    public void RateLimitNext(int count, string? retryAfter = null)
    {
        lock (_gate) (_rateLimited, _retryAfter) = (count, retryAfter);
    }

    public void FailNext(int count, int status = 500)
    {
        lock (_gate) (_failing, _failStatus) = (count, status);
    }

    /// <summary>A member already on the audience (e.g. one who unsubscribed through Mailchimp's own link).</summary>
    public void AddMember(string email, string status, params string[] tags)
    {
        lock (_gate)
        {
            var m = new Member { Email = email, Status = status };
            foreach (var t in tags) m.Tags.Add(t);
            _members[MailchimpConnector.SubscriberHash(email)] = m;
        }
    }

    /// <summary>An address permanently deleted (GDPR): it cannot be re-imported.</summary>
    public void Forget(string email)
    {
        lock (_gate)
        {
            _members.Remove(MailchimpConnector.SubscriberHash(email));
            _forgotten.Add(email);
        }
    }

    public string? StatusOf(string email)
    {
        lock (_gate) return _members.TryGetValue(MailchimpConnector.SubscriberHash(email), out var m) ? m.Status : null;
    }

    /// <summary>Double opt-in confirmation emails Mailchimp sent: one each time a member became "pending".</summary>
    public IReadOnlyList<string> ConfirmationEmailsSent
    {
        get
        {
            lock (_gate) return [.. _confirmations];
        }
    }

    /// <summary>The person clicks the confirmation link: a pending member becomes subscribed. False when not pending.</summary>
    public bool Confirm(string email)
    {
        lock (_gate)
        {
            if (!_members.TryGetValue(MailchimpConnector.SubscriberHash(email), out var m) || m.Status != "pending") return false;
            m.Status = "subscribed";
            return true;
        }
    }

    public IReadOnlyList<string> TagsOf(string email)
    {
        lock (_gate) return _members.TryGetValue(MailchimpConnector.SubscriberHash(email), out var m) ? [.. m.Tags] : [];
    }

    public IReadOnlyDictionary<string, string> MergeFieldsOf(string email)
    {
        lock (_gate)
        {
            return _members.TryGetValue(MailchimpConnector.SubscriberHash(email), out var m)
                ? new Dictionary<string, string>(m.MergeFields, StringComparer.Ordinal)
                : new Dictionary<string, string>();
        }
    }

    private void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/3.0");
        api.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            lock (_gate)
            {
                if (_rateLimited > 0)
                {
                    _rateLimited--;
                    if (_retryAfter is not null) http.Response.Headers.RetryAfter = _retryAfter;
                    return Problem(429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.");
                }
                if (_failing > 0)
                {
                    _failing--;
                    return Problem(_failStatus, _failStatus == 503 ? "Service Unavailable" : "Internal Server Error",
                        "An unexpected internal error has occurred. Please contact Support for more information.");
                }
            }
            if (!Authorized(http.Request.Headers.Authorization.ToString()))
            {
                return Problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter.");
            }
            if (context.HttpContext.GetRouteValue("listId") is string list && list != ListId)
            {
                return Problem(404, "Resource Not Found", "The requested resource could not be found.");
            }
            return await next(context);
        });

        api.MapPut("/lists/{listId}/members/{hash}", async (string hash, HttpContext http) =>
        {
            var body = await Body(http);
            var email = body?["email_address"]?.GetValue<string>();
            var statusIfNew = body?["status_if_new"]?.GetValue<string>();
            var status = body?["status"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(email) || !email.Contains('@', StringComparison.Ordinal))
            {
                return Invalid("email_address", "This value should not be blank.");
            }
            if (MailchimpConnector.SubscriberHash(email) != hash)
            {
                return Problem(400, "Invalid Resource", "The email address does not match the subscriber hash in the URL.");
            }
            foreach (var (field, value) in new[] { ("status", status), ("status_if_new", statusIfNew) })
            {
                if (value is not null && Array.IndexOf(Statuses, value) < 0) return Invalid(field, "Value must be one of: " + string.Join(", ", Statuses));
            }
            lock (_gate)
            {
                if (_forgotten.Contains(email))
                {
                    return Problem(400, "Forgotten Email Not Subscribed",
                        $"{email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.");
                }
                if (!_members.TryGetValue(hash, out var m))
                {
                    var initial = status ?? statusIfNew;
                    if (initial is null) return Invalid("status_if_new", "This value is required when the member is new.");
                    m = new Member { Email = email, Status = initial };
                    _members[hash] = m;
                    if (initial == "pending") _confirmations.Add(email);
                }
                else if (status is not null && status != m.Status)
                {
                    if (status is "subscribed" or "pending" && m.Status is "unsubscribed" or "cleaned")
                    {
                        return Problem(400, "Member In Compliance State",
                            $"{email} is already a list member in compliance state due to unsubscribe, bounce, or compliance review.");
                    }
                    if (status == "pending") _confirmations.Add(email);
                    m.Status = status;
                }
                if (body?["merge_fields"] is JsonObject merge)
                {
                    foreach (var (key, value) in merge) m.MergeFields[key] = value?.GetValue<string>() ?? "";
                }
                return Results.Json(Json(hash, m));
            }
        });

        api.MapPatch("/lists/{listId}/members/{hash}", async (string hash, HttpContext http) =>
        {
            var body = await Body(http);
            lock (_gate)
            {
                if (!_members.TryGetValue(hash, out var m)) return Problem(404, "Resource Not Found", "The requested resource could not be found.");
                if (body?["email_address"]?.GetValue<string>() is { } email && MailchimpConnector.SubscriberHash(email) != hash)
                {
                    var newHash = MailchimpConnector.SubscriberHash(email);
                    if (_members.ContainsKey(newHash))
                    {
                        return Problem(400, "Member Exists", $"{email} is already a list member. Use PUT to insert or update list members.");
                    }
                    _members.Remove(hash);
                    var moved = new Member { Email = email, Status = m.Status };
                    foreach (var (k, v) in m.MergeFields) moved.MergeFields[k] = v;
                    foreach (var t in m.Tags) moved.Tags.Add(t);
                    _members[hash = newHash] = m = moved;
                }
                return Results.Json(Json(hash, m));
            }
        });

        // mailchimp.com/developer/marketing/api/list-members/delete-list-member: permanent, 204; the
        // address cannot be re-imported afterwards; an unknown member is 404.
        api.MapPost("/lists/{listId}/members/{hash}/actions/delete-permanent", (string hash) =>
        {
            lock (_gate)
            {
                if (!_members.Remove(hash, out var m)) return Problem(404, "Resource Not Found", "The requested resource could not be found.");
                _forgotten.Add(m.Email);
                return Results.NoContent();
            }
        });

        api.MapGet("/lists/{listId}/members/{hash}", (string hash) =>
        {
            lock (_gate)
            {
                return _members.TryGetValue(hash, out var m) ? Results.Json(Json(hash, m)) : Problem(404, "Resource Not Found", "The requested resource could not be found.");
            }
        });

        api.MapPost("/lists/{listId}/members/{hash}/tags", async (string hash, HttpContext http) =>
        {
            if ((await Body(http))?["tags"] is not JsonArray tags) return Invalid("tags", "Schema describes array, object found instead");
            lock (_gate)
            {
                if (!_members.TryGetValue(hash, out var m)) return Problem(404, "Resource Not Found", "The requested resource could not be found.");
                foreach (var tag in tags)
                {
                    var name = tag?["name"]?.GetValue<string>();
                    var status = tag?["status"]?.GetValue<string>();
                    if (string.IsNullOrEmpty(name) || status is not ("active" or "inactive")) return Invalid("tags", "Each tag needs a name and a status of active or inactive.");
                    if (status == "active") m.Tags.Add(name);
                    else m.Tags.Remove(name);
                }
                return Results.NoContent();
            }
        });

        // The audience's members by page (mailchimp.com/developer/marketing/api/list-members/list-members-info):
        // count (default 10, at most 1000) and offset, total_items for the whole audience, archived left out.
        api.MapGet("/lists/{listId}/members", (HttpContext http) =>
        {
            var count = int.TryParse(http.Request.Query["count"], System.Globalization.CultureInfo.InvariantCulture, out var c) ? Math.Clamp(c, 1, 1000) : 10;
            count = Math.Min(count, MemberPageSize);
            var offset = int.TryParse(http.Request.Query["offset"], System.Globalization.CultureInfo.InvariantCulture, out var o) ? Math.Max(0, o) : 0;
            lock (_gate)
            {
                var all = _members.Where(m => m.Value.Status != "archived").OrderBy(m => m.Value.Email, StringComparer.Ordinal).ToList();
                return Results.Json(new
                {
                    members = all.Skip(offset).Take(count).Select(m => new
                    {
                        id = m.Key,
                        email_address = m.Value.Email,
                        status = m.Value.Status,
                        tags = m.Value.Tags.Select(t => new { id = TagId(t), name = t }),
                    }),
                    list_id = ListId,
                    total_items = all.Count,
                });
            }
        });
    }

    private static bool Authorized(string header)
    {
        if (!header.StartsWith("Basic ", StringComparison.Ordinal)) return false;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon >= 0 && decoded[(colon + 1)..] == ApiKey; // any user name
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static object Json(string hash, Member m) => new
    {
        id = hash,
        email_address = m.Email,
        status = m.Status,
        merge_fields = m.MergeFields,
        tags = m.Tags.Select(t => new { name = t }),
        list_id = ListId,
    };

    private static IResult Problem(int status, string title, string detail) => Results.Json(new
    {
        type = "https://mailchimp.com/developer/marketing/docs/errors/",
        title,
        status,
        detail,
        instance = Guid.NewGuid().ToString(),
    }, contentType: "application/problem+json", statusCode: status);

    private static IResult Invalid(string field, string message) => Results.Json(new
    {
        type = "https://mailchimp.com/developer/marketing/docs/errors/",
        title = "Invalid Resource",
        status = 400,
        detail = "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
        instance = Guid.NewGuid().ToString(),
        errors = new[] { new { field, message } },
    }, contentType: "application/problem+json", statusCode: 400);

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

    /// <summary>GET /3.0/lists/{id}/members page size cap (Mailchimp allows up to 1000), small to exercise offset paging.</summary>
    public int MemberPageSize { get; set; } = 1000;

    /// <summary>Someone removes a tag from one member by hand in Mailchimp's UI.</summary>
    public void UntagByHand(string email, string tag)
    {
        lock (_gate)
        {
            if (_members.TryGetValue(MailchimpConnector.SubscriberHash(email), out var m)) m.Tags.Remove(tag);
        }
    }

    /// <summary>Someone tags one member by hand in Mailchimp's UI.</summary>
    public void TagByHand(string email, string tag)
    {
        lock (_gate)
        {
            if (_members.TryGetValue(MailchimpConnector.SubscriberHash(email), out var m)) m.Tags.Add(tag);
        }
    }

    /// <summary>A member's status changed in Mailchimp itself (an unsubscribe link, a bounce cleaning it, an archive).</summary>
    public void SetStatusByHand(string email, string status)
    {
        lock (_gate)
        {
            if (_members.TryGetValue(MailchimpConnector.SubscriberHash(email), out var m)) m.Status = status;
        }
    }

    // Mailchimp tags are segments with numeric ids; a stable one per name is enough here.
    private static int TagId(string name) => 1000 + (name.Aggregate(17, (h, ch) => unchecked((h * 31) + ch)) & 0xFFFF);
}
