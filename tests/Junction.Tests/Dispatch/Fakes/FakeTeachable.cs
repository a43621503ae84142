using System.Text.Json.Nodes;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Dispatch.Fakes;

/// <summary>
/// Teachable public API v1 as documented (developers.teachable.com, docs.teachable.com): the
/// <c>apiKey</c> header; <c>GET /v1/users?email=</c> → <c>{users: [{id, name, email}], meta}</c>;
/// <c>POST /v1/users</c> → 201 <c>{user}</c> (400 when the email is taken);
/// <c>GET /v1/users/{id}</c> → <c>{user: {…, courses: [{course_id, is_active_enrollment}]}}</c>;
/// <c>POST /v1/enroll</c> and <c>POST /v1/unenroll</c> with <c>{user_id, course_id}</c> → 204, 404
/// for an unknown user or course (or, on unenroll, no enrollment). Errors are <c>{"message": …}</c>;
/// a 429 carries RateLimit-Limit/Remaining/Reset as the "Rate Limits" page shows.
/// </summary>
public sealed class FakeTeachable : IAsyncDisposable
{
    public const string ApiKey = "teachable-test-key";

    private readonly Lock _gate = new();
    private readonly List<(int Id, string Email, string? Name, string? Src)> _users = [];
    private readonly Dictionary<(int User, int Course), bool> _enrollments = [];
    private readonly HashSet<int> _courses = [];
    private int _nextUserId = 1000;
    private int _rateLimitNext;
    private int _rateLimitAfter;
    private int _failNext;
    private int _failStatus = 500;

    private FakeTeachable(IEnumerable<int> courses) => _courses.UnionWith(courses);

    public FakeApi Api { get; private set; } = null!;

    public Uri BaseUrl => Api.BaseUrl;

    /// <summary>Seconds in RateLimit-Reset on a 429.</summary>
    public int ResetSeconds { get; set; } = 47;

    public static async Task<FakeTeachable> StartAsync(params int[] courses)
    {
        var fake = new FakeTeachable(courses);
        fake.Api = await FakeApi.StartAsync(fake.Map);
        return fake;
    }

    /// <summary>After <paramref name="after"/> more authenticated calls, the next <paramref name="count"/> answer 429.</summary>
    public void RateLimitNext(int count, int after = 0)
    {
        lock (_gate)
        {
            _rateLimitNext = count;
            _rateLimitAfter = after;
        }
    }

    /// <summary>The next <paramref name="count"/> authenticated calls answer <paramref name="status"/> (a 5xx by default).</summary>
    public void FailNext(int count, int status = 500)
    {
        lock (_gate)
        {
            _failNext = count;
            _failStatus = status;
        }
    }

    public int AddUser(string email, string? name = null)
    {
        lock (_gate)
        {
            var id = _nextUserId++;
            _users.Add((id, email, name, null));
            return id;
        }
    }

    public void Enroll(int userId, int courseId)
    {
        lock (_gate) _enrollments[(userId, courseId)] = true;
    }

    public (int Id, string Email, string? Name, string? Src)? User(string email)
    {
        lock (_gate)
        {
            var match = _users.FirstOrDefault(u => string.Equals(u.Email, email, StringComparison.OrdinalIgnoreCase));
            return match.Id == 0 ? null : match;
        }
    }

    /// <summary>The email of a user id (null when unknown): for a fault function that sees only ids.</summary>
    public string? EmailOf(int userId)
    {
        lock (_gate) return _users.FirstOrDefault(u => u.Id == userId).Email;
    }

    public int UserCount
    {
        get { lock (_gate) return _users.Count; }
    }

    /// <summary>The courses the user with this email is actively enrolled in, sorted.</summary>
    public IReadOnlyList<int> ActiveCourses(string email)
    {
        lock (_gate)
        {
            if (User(email) is not { } user) return [];
            return _enrollments.Where(e => e.Key.User == user.Id && e.Value).Select(e => e.Key.Course).Order().ToList();
        }
    }

    private void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/users", (HttpContext context) => Guarded(context, () =>
        {
            var email = context.Request.Query["email"].ToString();
            var found = _users.Where(u => email.Length == 0 || string.Equals(u.Email, email, StringComparison.OrdinalIgnoreCase)).OrderBy(u => u.Id).ToList();
            var (page, meta) = Page(context, found, UserPageSize);
            var users = new JsonArray();
            foreach (var u in page) users.Add(new JsonObject { ["id"] = u.Id, ["name"] = u.Name, ["email"] = u.Email });
            return Json(200, new JsonObject { ["users"] = users, ["meta"] = meta });
        }));

        app.MapPost("/v1/users", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            var email = body?["email"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(email)) return Error(400, "Email can't be blank");
            if (_users.Any(u => string.Equals(u.Email, email, StringComparison.OrdinalIgnoreCase)))
            {
                return Error(400, "Email has already been taken");
            }
            var user = (_nextUserId++, email, body?["name"]?.GetValue<string>(), body?["src"]?.GetValue<string>());
            _users.Add(user);
            return Json(201, new JsonObject { ["user"] = UserJson(user.Item1) });
        })));

        app.MapGet("/v1/users/{id:int}", (HttpContext context, int id) => Guarded(context, () =>
            _users.Any(u => u.Id == id) ? Json(200, new JsonObject { ["user"] = UserJson(id) }) : Error(404, "User not found")));

        app.MapPost("/v1/enroll", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            if (Ids(body) is not { } ids) return Error(422, "user_id and course_id are required");
            var (user, course) = ids;
            if (_users.All(u => u.Id != user)) return Error(404, "User not found");
            if (!_courses.Contains(course)) return Error(404, "Course not found");
            if (FakeApi.Dropped(context)) return Results.StatusCode(204); // a silent drop: documented answer, nothing applied
            if (_enrollments.GetValueOrDefault((user, course)) is false) _enrolledAt[(user, course)] = TimeProvider.System.GetUtcNow();
            _enrollments[(user, course)] = true;
            return Results.StatusCode(204);
        })));

        app.MapPost("/v1/unenroll", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            if (Ids(body) is not { } ids) return Error(422, "user_id and course_id are required");
            var (user, course) = ids;
            if (!_enrollments.TryGetValue((user, course), out var active) || !active) return Error(404, "Enrollment not found");
            if (FakeApi.Dropped(context)) return Results.StatusCode(204);
            _enrollments[(user, course)] = false;
            return Results.StatusCode(204);
        })));

        // A course's active enrollments (docs.teachable.com "Fetch course enrollments"): user ids with
        // enrolled_at, completed_at, percent_complete, expires_at, paged by page/per with meta.
        app.MapGet("/v1/courses/{courseId:int}/enrollments", (HttpContext context, int courseId) => Guarded(context, () =>
        {
            if (!_courses.Contains(courseId)) return Error(404, "Course not found");
            var active = _enrollments.Where(e => e.Key.Course == courseId && e.Value).Select(e => e.Key.User).Order().ToList();
            var (page, meta) = Page(context, active, EnrollmentPageSize);
            var enrollments = new JsonArray();
            foreach (var user in page)
            {
                enrollments.Add(new JsonObject
                {
                    ["user_id"] = user,
                    ["enrolled_at"] = _enrolledAt.GetValueOrDefault((user, courseId), Epoch).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                    ["completed_at"] = null,
                    ["percent_complete"] = 0,
                    ["expires_at"] = _expiresAt.TryGetValue((user, courseId), out var expires)
                        ? expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) : null,
                });
            }
            return Json(200, new JsonObject { ["enrollments"] = enrollments, ["meta"] = meta });
        }));
    }

    private JsonObject UserJson(int id)
    {
        var user = _users.First(u => u.Id == id);
        var courses = new JsonArray();
        foreach (var ((_, course), active) in _enrollments.Where(e => e.Key.User == id))
        {
            courses.Add(new JsonObject { ["course_id"] = course, ["course_name"] = $"Course {course}", ["is_active_enrollment"] = active, ["percent_complete"] = 0 });
        }
        return new JsonObject { ["id"] = id, ["name"] = user.Name, ["email"] = user.Email, ["role"] = "student", ["courses"] = courses, ["tags"] = new JsonArray() };
    }

    private static (int, int)? Ids(JsonNode? body)
    {
        try
        {
            return body?["user_id"]?.GetValue<int>() is { } user && body["course_id"]?.GetValue<int>() is { } course ? (user, course) : null;
        }
        catch (InvalidOperationException)
        {
            return null; // strings where integers belong
        }
    }

    private IResult Guarded(HttpContext context, Func<IResult> handler)
    {
        lock (_gate)
        {
            if (context.Request.Headers["apiKey"].ToString() != ApiKey) return Error(401, "Unauthorized");
            if (_rateLimitNext > 0 && _rateLimitAfter-- <= 0)
            {
                _rateLimitNext--;
                context.Response.Headers["RateLimit-Limit"] = "360";
                context.Response.Headers["RateLimit-Remaining"] = "0";
                context.Response.Headers["RateLimit-Reset"] = ResetSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Error(429, "API rate limit exceeded");
            }
            if (_failNext > 0)
            {
                _failNext--;
                return Error(_failStatus, "Internal Server Error");
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
            return Error(400, "Invalid JSON");
        }
        return Guarded(context, () => handler(body));
    }

    private static IResult Json(int status, JsonNode body) =>
        Results.Text(body.ToJsonString(), "application/json", statusCode: status);

    private static IResult Error(int status, string message) => Json(status, new JsonObject { ["message"] = message });

    public ValueTask DisposeAsync() => Api.DisposeAsync();

    private static readonly DateTimeOffset Epoch = new(2024, 1, 15, 9, 30, 0, TimeSpan.Zero);

    private readonly Dictionary<(int User, int Course), DateTimeOffset> _enrolledAt = [];
    private readonly Dictionary<(int User, int Course), DateTimeOffset> _expiresAt = [];

    /// <summary>GET /v1/users page size cap (Teachable's default is 20), small to exercise paging.</summary>
    public int UserPageSize { get; set; } = 100;

    /// <summary>GET /v1/courses/{id}/enrollments page size cap, small to exercise paging.</summary>
    public int EnrollmentPageSize { get; set; } = 100;

    /// <summary>The school owner unenrolls a student by hand in Teachable's admin.</summary>
    public void UnenrollByHand(string email, int courseId)
    {
        lock (_gate)
        {
            if (User(email) is { } user && _enrollments.ContainsKey((user.Id, courseId))) _enrollments[(user.Id, courseId)] = false;
        }
    }

    /// <summary>The school owner enrolls a student by hand (creating the user when Teachable has none).</summary>
    public void EnrollByHand(string email, int courseId, DateTimeOffset? enrolledAt = null, DateTimeOffset? expiresAt = null)
    {
        lock (_gate)
        {
            var id = User(email)?.Id ?? AddUser(email);
            _enrollments[(id, courseId)] = true;
            _enrolledAt[(id, courseId)] = enrolledAt ?? TimeProvider.System.GetUtcNow();
            if (expiresAt is { } expires) _expiresAt[(id, courseId)] = expires;
        }
    }

    /// <summary>page/per (per capped at <paramref name="cap"/>) and Teachable's meta: total, page, from, to, per_page, number_of_pages.</summary>
    private static (List<T> Page, JsonObject Meta) Page<T>(HttpContext context, List<T> all, int cap)
    {
        var per = int.TryParse(context.Request.Query["per"], System.Globalization.CultureInfo.InvariantCulture, out var p) ? Math.Clamp(p, 1, 100) : 20;
        per = Math.Min(per, cap);
        var page = int.TryParse(context.Request.Query["page"], System.Globalization.CultureInfo.InvariantCulture, out var n) ? Math.Max(1, n) : 1;
        var items = all.Skip((page - 1) * per).Take(per).ToList();
        var pages = Math.Max(1, (all.Count + per - 1) / per);
        var from = items.Count == 0 ? 0 : ((page - 1) * per) + 1;
        return (items, new JsonObject
        {
            ["total"] = all.Count, ["page"] = page, ["from"] = from, ["to"] = from == 0 ? 0 : from + items.Count - 1, ["per_page"] = per, ["number_of_pages"] = pages,
        });
    }
}
