using System.Globalization;
using System.Text.Json.Nodes;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Integrations.Thinkific;

/// <summary>
/// Thinkific Admin API v1 as documented (developers.thinkific.com/api/api-documentation), under
/// <c>/api/public/v1</c>: <c>X-Auth-API-Key</c> + <c>X-Auth-Subdomain</c> (401 otherwise);
/// <c>GET /users?query[email]=</c> (a search: addresses containing it) → <c>{items, meta.pagination}</c>;
/// <c>POST /users</c> → 201 user, 422 <c>{"errors": {"field": ["…"]}}</c> (first_name, last_name and
/// email required; email taken); <c>GET /enrollments?query[user_id]|[course_id]</c> paged by
/// <c>page</c>/<c>limit</c>; <c>POST /enrollments</c> → 201, 422 for an unknown course or user (and,
/// here, for a second enrollment in the same course, so a double POST shows);
/// <c>PUT /enrollments/{id}</c> → 204, 404 <c>{"error": "Record not found."}</c>. A 429 carries
/// <c>RateLimit-Reset</c> as an epoch (developers.thinkific.com/api/rate-limits).
/// </summary>
public sealed class FakeThinkific : IAsyncDisposable
{
    public const string ApiKey = "thinkific-test-key";
    public const string Subdomain = "myschool";
    public const string Root = "/api/public/v1";

    private readonly Lock _gate = new();
    private readonly List<User> _users = [];
    private readonly List<Enrollment> _enrollments = [];
    private readonly HashSet<long> _courses = [];
    private long _nextUserId = 5000;
    private long _nextEnrollmentId = 9000;
    private int _rateLimitNext;
    private int _failNext;
    private int _failStatus = 500;
    private string _failMessage = "Internal Server Error";

    private FakeThinkific(IEnumerable<long> courses) => _courses.UnionWith(courses);

    public FakeApi Api { get; private set; } = null!;

    /// <summary>The API root, as a destination's base_url names it.</summary>
    public Uri BaseUrl => new(Api.BaseUrl, Root);

    /// <summary>Seconds from now to the RateLimit-Reset epoch of a 429.</summary>
    public int ResetSeconds { get; set; } = 30;

    /// <summary>The epochs (seconds) the 429s named, in order.</summary>
    public List<long> ResetEpochs { get; } = [];

    /// <summary>Page size cap of the list endpoints, small to exercise paging.</summary>
    public int PageSize { get; set; } = 100;

    public static async Task<FakeThinkific> StartAsync(params long[] courses)
    {
        var fake = new FakeThinkific(courses);
        fake.Api = await FakeApi.StartAsync(fake.Map);
        return fake;
    }

    /// <summary>The school owner creates (or publishes) a course.</summary>
    public void AddCourse(long course)
    {
        lock (_gate) _courses.Add(course);
    }

    public void RateLimitNext(int count)
    {
        lock (_gate) _rateLimitNext = count;
    }

    /// <summary>The next <paramref name="count"/> authenticated calls answer <paramref name="status"/>.</summary>
    public void FailNext(int count, int status = 500, string message = "Internal Server Error")
    {
        lock (_gate)
        {
            _failNext = count;
            _failStatus = status;
            _failMessage = message;
        }
    }

    public long AddUser(string email, string first = "Ada", string last = "Lovelace")
    {
        lock (_gate)
        {
            var user = new User(_nextUserId++, email, first, last);
            _users.Add(user);
            return user.Id;
        }
    }

    public User? UserOf(string email)
    {
        lock (_gate) return _users.FirstOrDefault(u => string.Equals(u.Email, email, StringComparison.OrdinalIgnoreCase));
    }

    public int UserCount
    {
        get { lock (_gate) return _users.Count; }
    }

    /// <summary>The school owner enrolls someone by hand (creating the user when missing).</summary>
    public long EnrollByHand(string email, long course, DateTimeOffset? activatedAt = null, DateTimeOffset? expiry = null, bool freeTrial = false)
    {
        lock (_gate)
        {
            var user = UserOf(email)?.Id ?? AddUser(email);
            var e = new Enrollment(_nextEnrollmentId++, user, course)
            {
                ActivatedAt = freeTrial ? null : activatedAt ?? TimeProvider.System.GetUtcNow(),
                ExpiryDate = expiry,
            };
            _enrollments.Add(e);
            return e.Id;
        }
    }

    /// <summary>Courses the user can open as a full (not trial) enrollment now, sorted.</summary>
    public IReadOnlyList<long> ActiveCourses(string email)
    {
        lock (_gate)
        {
            if (UserOf(email) is not { } user) return [];
            return _enrollments.Where(e => e.UserId == user.Id && e.ActivatedAt is not null && !e.Expired).Select(e => e.CourseId).Order().ToList();
        }
    }

    /// <summary>All enrollments of the user, active or not.</summary>
    public IReadOnlyList<Enrollment> EnrollmentsOf(string email)
    {
        lock (_gate)
        {
            if (UserOf(email) is not { } user) return [];
            return _enrollments.Where(e => e.UserId == user.Id).Select(e => e with { }).ToList();
        }
    }

    private void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app)
    {
        app.MapGet(Root + "/users", (HttpContext context) => Guarded(context, () =>
        {
            var email = context.Request.Query["query[email]"].ToString();
            var found = _users.Where(u => email.Length == 0 || u.Email.Contains(email, StringComparison.OrdinalIgnoreCase)).OrderBy(u => u.Id).ToList();
            var (page, meta) = Page(context, found);
            var items = new JsonArray();
            foreach (var u in page) items.Add(UserJson(u));
            return Json(200, new JsonObject { ["items"] = items, ["meta"] = meta });
        }));

        app.MapPost(Root + "/users", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var errors = new JsonObject();
            string? Text(string key) => body?[key] is JsonValue v && v.TryGetValue<string>(out var s) && s.Trim().Length > 0 ? s.Trim() : null;
            foreach (var key in new[] { "first_name", "last_name", "email" })
            {
                if (Text(key) is null) errors[key] = new JsonArray("can't be blank");
            }
            if (Text("email") is { } taken && _users.Any(u => string.Equals(u.Email, taken, StringComparison.OrdinalIgnoreCase)))
            {
                errors["email"] = new JsonArray("has already been taken");
            }
            if (errors.Count > 0) return Json(422, new JsonObject { ["errors"] = errors });
            if (FakeApi.Dropped(context)) return Json(201, new JsonObject { ["id"] = 0 });
            var user = new User(_nextUserId++, Text("email")!, Text("first_name")!, Text("last_name")!);
            _users.Add(user);
            return Json(201, UserJson(user));
        })));

        app.MapGet(Root + "/enrollments", (HttpContext context) => Guarded(context, () =>
        {
            IEnumerable<Enrollment> found = _enrollments;
            if (long.TryParse(context.Request.Query["query[user_id]"], CultureInfo.InvariantCulture, out var user)) found = found.Where(e => e.UserId == user);
            if (long.TryParse(context.Request.Query["query[course_id]"], CultureInfo.InvariantCulture, out var course)) found = found.Where(e => e.CourseId == course);
            var (page, meta) = Page(context, found.OrderBy(e => e.Id).ToList());
            var items = new JsonArray();
            foreach (var e in page) items.Add(EnrollmentJson(e));
            return Json(200, new JsonObject { ["items"] = items, ["meta"] = meta });
        }));

        app.MapPost(Root + "/enrollments", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var course = Number(body?["course_id"]);
            var user = Number(body?["user_id"]);
            if (course is null || !_courses.Contains(course.Value)) return Json(422, new JsonObject { ["errors"] = new JsonArray("Course could not be found.") });
            if (user is null || _users.All(u => u.Id != user)) return Json(422, new JsonObject { ["errors"] = new JsonArray("User could not be found.") });
            if (_enrollments.Any(e => e.UserId == user && e.CourseId == course))
            {
                return Json(422, new JsonObject { ["errors"] = new JsonArray("User is already enrolled in this course.") });
            }
            if (FakeApi.Dropped(context)) return Json(201, new JsonObject { ["id"] = 0 });
            var e = new Enrollment(_nextEnrollmentId++, user.Value, course.Value) { ActivatedAt = Date(body?["activated_at"]), ExpiryDate = Date(body?["expiry_date"]) };
            _enrollments.Add(e);
            return Json(201, EnrollmentJson(e));
        })));

        app.MapPut(Root + "/enrollments/{id:long}", (Func<HttpContext, long, Task<IResult>>)((context, id) => GuardedBody(context, body =>
        {
            var e = _enrollments.FirstOrDefault(x => x.Id == id);
            if (e is null) return Json(404, new JsonObject { ["error"] = "Record not found." });
            if (FakeApi.Dropped(context)) return Results.StatusCode(204);
            if (body is JsonObject o)
            {
                if (o.ContainsKey("activated_at")) e.ActivatedAt = Date(o["activated_at"]);
                if (o.ContainsKey("expiry_date")) e.ExpiryDate = Date(o["expiry_date"]);
            }
            return Results.StatusCode(204);
        })));
    }

    private static long? Number(JsonNode? node) =>
        node is JsonValue v && (v.TryGetValue<long>(out var l) ? l : v.TryGetValue<double>(out var d) ? (long)d : (long?)null) is { } n ? n : null;

    private static DateTimeOffset? Date(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    private static string? Iso(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static JsonObject UserJson(User u) => new()
    {
        ["id"] = u.Id, ["first_name"] = u.First, ["last_name"] = u.Last, ["full_name"] = $"{u.First} {u.Last}", ["email"] = u.Email,
        ["roles"] = new JsonArray(), ["created_at"] = "2026-01-01T00:00:00.000Z",
    };

    private JsonObject EnrollmentJson(Enrollment e)
    {
        var user = _users.First(u => u.Id == e.UserId);
        return new JsonObject
        {
            ["id"] = e.Id, ["user_email"] = user.Email, ["user_name"] = $"{user.First} {user.Last}", ["user_id"] = e.UserId,
            ["course_name"] = $"Course {e.CourseId}", ["course_id"] = e.CourseId, ["percentage_completed"] = 0.0,
            ["expired"] = e.Expired, ["is_free_trial"] = e.ActivatedAt is null, ["completed"] = false,
            ["started_at"] = Iso(e.ActivatedAt), ["activated_at"] = Iso(e.ActivatedAt), ["completed_at"] = null,
            ["updated_at"] = Iso(TimeProvider.System.GetUtcNow()), ["expiry_date"] = Iso(e.ExpiryDate),
        };
    }

    private (List<T> Page, JsonObject Meta) Page<T>(HttpContext context, List<T> all)
    {
        var limit = int.TryParse(context.Request.Query["limit"], CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, 250) : 25;
        limit = Math.Min(limit, PageSize);
        var page = int.TryParse(context.Request.Query["page"], CultureInfo.InvariantCulture, out var p) ? Math.Max(1, p) : 1;
        var pages = Math.Max(1, (all.Count + limit - 1) / limit);
        var items = all.Skip((page - 1) * limit).Take(limit).ToList();
        return (items, new JsonObject
        {
            ["pagination"] = new JsonObject
            {
                ["current_page"] = page, ["next_page"] = page < pages ? page + 1 : null, ["prev_page"] = page > 1 ? page - 1 : null,
                ["total_pages"] = pages, ["total_items"] = all.Count, ["entries_info"] = $"{items.Count} of {all.Count}",
            },
        });
    }

    private IResult Guarded(HttpContext context, Func<IResult> handler)
    {
        lock (_gate)
        {
            if (context.Request.Headers["X-Auth-API-Key"].ToString() != ApiKey || context.Request.Headers["X-Auth-Subdomain"].ToString() != Subdomain)
            {
                return Json(401, new JsonObject { ["error"] = "You are not authorized to access this resource." });
            }
            if (_rateLimitNext > 0)
            {
                _rateLimitNext--;
                var reset = TimeProvider.System.GetUtcNow().AddSeconds(ResetSeconds).ToUnixTimeSeconds();
                ResetEpochs.Add(reset);
                context.Response.Headers["RateLimit-Reset"] = reset.ToString(CultureInfo.InvariantCulture);
                return Json(429, new JsonObject { ["error"] = "Rate limit exceeded" });
            }
            if (_failNext > 0)
            {
                _failNext--;
                return Json(_failStatus, new JsonObject { ["error"] = _failMessage });
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
            return Json(400, new JsonObject { ["error"] = "Invalid JSON" });
        }
        return Guarded(context, () => handler(body));
    }

    private static IResult Json(int status, JsonNode body) => Results.Text(body.ToJsonString(), "application/json", statusCode: status);

    public ValueTask DisposeAsync() => Api.DisposeAsync();

    public sealed record User(long Id, string Email, string First, string Last);

    public sealed record Enrollment(long Id, long UserId, long CourseId)
    {
        public DateTimeOffset? ActivatedAt { get; set; }
        public DateTimeOffset? ExpiryDate { get; set; }
        public bool Expired => ExpiryDate is { } expiry && expiry <= TimeProvider.System.GetUtcNow();
    }
}
