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
            var users = new JsonArray();
            foreach (var u in _users.Where(u => email.Length == 0 || string.Equals(u.Email, email, StringComparison.OrdinalIgnoreCase)))
            {
                users.Add(new JsonObject { ["id"] = u.Id, ["name"] = u.Name, ["email"] = u.Email });
            }
            var meta = new JsonObject { ["total"] = users.Count, ["page"] = 1, ["from"] = 1, ["to"] = users.Count, ["per_page"] = 20, ["number_of_pages"] = 1 };
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
            _enrollments[(user, course)] = true;
            return Results.StatusCode(204);
        })));

        app.MapPost("/v1/unenroll", (Func<HttpContext, Task<IResult>>)(context => GuardedBody(context, body =>
        {
            if (Ids(body) is not { } ids) return Error(422, "user_id and course_id are required");
            var (user, course) = ids;
            if (!_enrollments.TryGetValue((user, course), out var active) || !active) return Error(404, "Enrollment not found");
            _enrollments[(user, course)] = false;
            return Results.StatusCode(204);
        })));
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
}
