using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Thinkific;

/// <summary>
/// Thinkific Admin API v1 (developers.thinkific.com/api/api-documentation; <c>X-Auth-API-Key</c> and
/// <c>X-Auth-Subdomain</c> headers). A state destination of which only course access matters:
/// finds the user by email (<c>GET /users?query[email]=</c>), creates it when missing
/// (<c>POST /users</c>), reads the user's enrollments (<c>GET /enrollments?query[user_id]=</c>),
/// enrolls in the courses desired but not last synced (<c>POST /enrollments</c> with
/// <c>activated_at</c>, which makes it a full enrollment rather than a free trial) and takes
/// access away from the ones last synced but no longer desired by expiring the enrollment
/// (<c>PUT /enrollments/{id}</c> with <c>expiry_date</c> = now): the Admin API has no call that
/// deletes an enrollment, and expiring keeps the student's progress should access come back.
/// An expired (or free-trial) enrollment of a course desired again is reactivated with the same
/// PUT (<c>activated_at</c> now, <c>expiry_date</c> cleared) instead of a second POST.
/// Courses Junction never granted are left alone. A retry after a partial success is safe: the
/// enrollment list is read first, so an enrollment already active is not created again and
/// one already expired is not expired again.
/// </summary>
public sealed class ThinkificConnector(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationConnector
{
    // The API's own page size cap is not documented; its default is 25.
    private const int PageSize = 100;

    private const int MaxPages = 50;

    public DestinationConfig Config { get; } = config;

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        var attempt = new DestinationHttp(http, time) { DefaultRetryAfter = TimeSpan.FromSeconds(60) };
        if (work.Desired is not { } desired) return attempt.Permanent("thinkific: the task carries no desired state");
        if (CheckConfig(Config) is { } configError) return attempt.Permanent(configError);

        var last = work.LastSynced;
        // A changed email is another Thinkific user: the old one loses what Junction granted it, the new one gets all of it.
        var sameUser = last is not null && string.Equals(last.Email, desired.Email, StringComparison.OrdinalIgnoreCase);
        var lastCourses = last?.Courses ?? [];
        var enroll = desired.Courses.Where(c => !sameUser || !lastCourses.Contains(c, StringComparer.Ordinal)).ToList();
        var expire = lastCourses.Where(c => !sameUser || !desired.Courses.Contains(c, StringComparer.Ordinal)).ToList();
        if (enroll.Count == 0 && expire.Count == 0) return attempt.Succeeded();

        foreach (var course in enroll.Concat(expire))
        {
            if (CourseId(course) is null) return attempt.Permanent(CourseError(Config, course));
        }

        var session = new Session(this, attempt);
        var now = time.GetUtcNow();

        if (expire.Count > 0)
        {
            var (oldUser, failure) = await session.FindUserAsync(sameUser ? desired.Email : last!.Email, cancellationToken);
            if (failure is not null) return failure;
            // No user with that email: nothing to take away.
            if (oldUser is { } userId)
            {
                var (enrollments, listFailure) = await session.EnrollmentsAsync(userId, cancellationToken);
                if (listFailure is not null) return listFailure;
                foreach (var course in expire)
                {
                    foreach (var e in enrollments.Where(e => e.CourseId == CourseId(course) && e.GivesAccess(now)))
                    {
                        var body = new JsonObject { ["expiry_date"] = Timestamp(now) };
                        var reply = await session.SendAsync(HttpMethod.Put, $"enrollments/{e.Id.ToString(CultureInfo.InvariantCulture)}", body, cancellationToken);
                        // 404: the enrollment is gone, so is the access.
                        if (!reply.IsSuccess && reply.Status != 404) return session.Failed(reply, $"expire enrollment in course {course}");
                    }
                }
            }
        }

        if (enroll.Count > 0)
        {
            var (found, failure) = await session.FindUserAsync(desired.Email, cancellationToken);
            if (failure is not null) return failure;
            long userId;
            IReadOnlyList<Enrollment> enrollments = [];
            if (found is { } existing)
            {
                userId = existing;
                (enrollments, failure) = await session.EnrollmentsAsync(userId, cancellationToken);
                if (failure is not null) return failure;
            }
            else
            {
                (userId, failure) = await session.CreateUserAsync(desired, cancellationToken);
                if (failure is not null) return failure;
            }

            foreach (var course in enroll)
            {
                var id = CourseId(course)!.Value;
                var held = enrollments.Where(e => e.CourseId == id).ToList();
                if (held.Any(e => e.GivesFullAccess(now))) continue;
                HttpReply reply;
                if (held.FirstOrDefault() is { } previous)
                {
                    // Expired or a free trial: the same enrollment comes back to life, progress kept.
                    var body = new JsonObject { ["activated_at"] = Timestamp(now), ["expiry_date"] = null };
                    reply = await session.SendAsync(HttpMethod.Put, $"enrollments/{previous.Id.ToString(CultureInfo.InvariantCulture)}", body, cancellationToken);
                    if (!reply.IsSuccess) return session.Failed(reply, $"reactivate enrollment in course {course}");
                    continue;
                }
                var create = new JsonObject { ["course_id"] = id, ["user_id"] = userId, ["activated_at"] = Timestamp(now) };
                reply = await session.SendAsync(HttpMethod.Post, "enrollments", create, cancellationToken);
                if (!reply.IsSuccess) return session.Failed(reply, $"enroll in course {course}");
            }
        }
        return attempt.Succeeded();
    }

    /// <summary>What a delivery or a read cannot do without: null when the config is usable.</summary>
    internal static string? CheckConfig(DestinationConfig config)
    {
        if (!config.Credentials.TryGetValue(ThinkificDestination.ApiKey, out var key) || string.IsNullOrWhiteSpace(key))
        {
            return $"destinations.{config.Id}.credentials.api_key: required for Thinkific";
        }
        if (!config.Options.TryGetValue(ThinkificDestination.Subdomain, out var subdomain) || string.IsNullOrWhiteSpace(subdomain))
        {
            return $"destinations.{config.Id}.subdomain: required for Thinkific (the site's subdomain, e.g. myschool for myschool.thinkific.com)";
        }
        return null;
    }

    internal static long? CourseId(string course) =>
        long.TryParse(course, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    internal static string CourseError(DestinationConfig config, string course) =>
        $"destinations.{config.Id}.courses: '{course}' is not a Thinkific course id (a positive integer)";

    /// <summary>The two headers every Admin API call carries (never recorded: DestinationHttp keeps no headers).</summary>
    internal static void Authorize(DestinationConfig config, HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("X-Auth-API-Key", config.Credentials[ThinkificDestination.ApiKey]);
        request.Headers.TryAddWithoutValidation("X-Auth-Subdomain", config.Options[ThinkificDestination.Subdomain]);
    }

    /// <summary>
    /// When a 429 lifts. developers.thinkific.com/api/rate-limits names <c>RateLimit-Reset: &lt;epoch_time&gt;</c>,
    /// "the time when the rate limit will be reset"; Thinkific's help centre calls the same header the
    /// time "in milliseconds" until the reset. Both readings are honoured: an epoch in seconds or
    /// milliseconds is measured against the clock, a small number is a wait in milliseconds.
    /// </summary>
    internal static TimeSpan? ResetWait(HttpResponseHeaders? headers, TimeProvider time)
    {
        if (headers is null || !headers.TryGetValues("RateLimit-Reset", out var values)
            || !double.TryParse(values.FirstOrDefault(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }
        var now = time.GetUtcNow();
        TimeSpan wait;
        if (value >= 1e12) wait = DateTimeOffset.FromUnixTimeMilliseconds((long)value) - now;
        else if (value >= 1e9) wait = DateTimeOffset.FromUnixTimeSeconds((long)Math.Ceiling(value)) - now;
        else wait = TimeSpan.FromMilliseconds(value);
        if (wait < TimeSpan.Zero) return TimeSpan.Zero;
        // A window is a minute: anything longer is not what the header means.
        return wait > TimeSpan.FromMinutes(5) ? null : wait;
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal static DateTimeOffset? Date(JsonElement item, string name) =>
        item.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    /// <summary>
    /// Thinkific errors: <c>{"error": "…"}</c> (401, 403, 404), <c>{"errors": {"field": ["…"]}}</c> or
    /// <c>{"errors": ["…"]}</c> (422).
    /// </summary>
    internal static string? Message(string body)
    {
        var root = JsonNode.Parse(body);
        if (root?["error"] is JsonValue error) return error.ToString();
        return root?["errors"] switch
        {
            JsonArray list => string.Join("; ", list.Select(m => m?.ToString())),
            JsonObject fields => string.Join("; ", fields.Select(f => f.Value is JsonArray a ? $"{f.Key} {string.Join(", ", a.Select(m => m?.ToString()))}" : $"{f.Key} {f.Value}")),
            _ => body,
        };
    }

    /// <summary>One enrollment as <c>GET /enrollments</c> lists it.</summary>
    internal sealed record Enrollment(long Id, long CourseId, string? Email, bool Expired, bool FreeTrial, DateTimeOffset? ActivatedAt,
        DateTimeOffset? ExpiryDate, DateTimeOffset? StartedAt)
    {
        /// <summary>The student can open the course now (a free trial included).</summary>
        public bool GivesAccess(DateTimeOffset now) => !Expired && (ExpiryDate is not { } expiry || expiry > now);

        /// <summary>Access that is not a free trial: what a purchase grants.</summary>
        public bool GivesFullAccess(DateTimeOffset now) => GivesAccess(now) && !FreeTrial;

        public static Enrollment? From(JsonElement e)
        {
            if (!e.TryGetProperty("id", out var i) || !i.TryGetDouble(out var id)) return null;
            if (!e.TryGetProperty("course_id", out var c) || !c.TryGetDouble(out var course)) return null;
            return new Enrollment((long)id, (long)course,
                e.TryGetProperty("user_email", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null,
                e.TryGetProperty("expired", out var x) && x.ValueKind == JsonValueKind.True,
                e.TryGetProperty("is_free_trial", out var t) && t.ValueKind == JsonValueKind.True,
                Date(e, "activated_at"), Date(e, "expiry_date"), Date(e, "started_at"));
        }
    }

    /// <summary>The calls of one delivery, sharing its <see cref="DestinationHttp"/> (the DLQ's request list).</summary>
    private sealed class Session(ThinkificConnector connector, DestinationHttp attempt)
    {
        private readonly Dictionary<string, long?> _users = new(StringComparer.OrdinalIgnoreCase);

        public Task<HttpReply> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken) =>
            attempt.SendAsync(method, DestinationHttp.Under(connector.Config.BaseUrl, path), "/" + path, body?.ToJsonString(),
                r =>
                {
                    Authorize(connector.Config, r);
                    r.Headers.Accept.ParseAdd("application/json");
                }, cancellationToken);

        public DeliveryResult Failed(HttpReply reply, string what)
        {
            var result = attempt.Failed(reply, what, Message);
            if (reply.Status is 401 or 403) result = result with { Error = result.Error + $" (destinations.{connector.Config.Id}.credentials.api_key and subdomain)" };
            return result.Outcome == DeliveryOutcome.RateLimited && ResetWait(reply.Headers, connector.Time) is { } wait
                ? result with { RetryAfter = wait }
                : result;
        }

        public async Task<(long? UserId, DeliveryResult? Failure)> FindUserAsync(string email, CancellationToken cancellationToken)
        {
            if (_users.TryGetValue(email, out var known)) return (known, null);
            var reply = await SendAsync(HttpMethod.Get, "users?query%5Bemail%5D=" + Uri.EscapeDataString(email), null, cancellationToken);
            if (!reply.IsSuccess) return (null, Failed(reply, "find user"));
            try
            {
                using var doc = JsonDocument.Parse(reply.Body);
                if (!doc.RootElement.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
                {
                    return (null, attempt.Unexpected(reply, "find user: no 'items' list"));
                }
                // query[email] is a search: match the address ourselves.
                foreach (var user in items.EnumerateArray())
                {
                    if (user.TryGetProperty("email", out var e) && string.Equals(e.GetString()?.Trim(), email, StringComparison.OrdinalIgnoreCase)
                        && user.TryGetProperty("id", out var i) && i.TryGetDouble(out var id))
                    {
                        _users[email] = (long)id;
                        return ((long)id, null);
                    }
                }
                _users[email] = null;
                return (null, null);
            }
            catch (JsonException)
            {
                return (null, attempt.Unexpected(reply, "find user: the body is not JSON"));
            }
        }

        /// <summary>Every enrollment of the user (active, expired, free trial), following <c>meta.pagination</c>.</summary>
        public async Task<(IReadOnlyList<Enrollment> Enrollments, DeliveryResult? Failure)> EnrollmentsAsync(long userId, CancellationToken cancellationToken)
        {
            var all = new List<Enrollment>();
            for (var page = 1; page <= MaxPages; page++)
            {
                var path = $"enrollments?query%5Buser_id%5D={userId.ToString(CultureInfo.InvariantCulture)}&page={page.ToString(CultureInfo.InvariantCulture)}&limit={PageSize.ToString(CultureInfo.InvariantCulture)}";
                var reply = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
                if (!reply.IsSuccess) return (all, Failed(reply, "list enrollments"));
                try
                {
                    using var doc = JsonDocument.Parse(reply.Body);
                    if (!doc.RootElement.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
                    {
                        return (all, attempt.Unexpected(reply, "list enrollments: no 'items' list"));
                    }
                    var count = 0;
                    foreach (var item in items.EnumerateArray())
                    {
                        count++;
                        if (Enrollment.From(item) is { } e) all.Add(e);
                    }
                    if (count == 0 || !HasNextPage(doc.RootElement, page)) return (all, null);
                }
                catch (JsonException)
                {
                    return (all, attempt.Unexpected(reply, "list enrollments: the body is not JSON"));
                }
            }
            return (all, null);
        }

        public async Task<(long UserId, DeliveryResult? Failure)> CreateUserAsync(DesiredContact desired, CancellationToken cancellationToken)
        {
            var (first, last) = Names(desired);
            var body = new JsonObject { ["first_name"] = first, ["last_name"] = last, ["email"] = desired.Email };
            var reply = await SendAsync(HttpMethod.Post, "users", body, cancellationToken);
            if (!reply.IsSuccess) return (0, Failed(reply, "create user"));
            try
            {
                using var doc = JsonDocument.Parse(reply.Body);
                if (doc.RootElement.TryGetProperty("id", out var i) && i.TryGetDouble(out var id))
                {
                    _users[desired.Email] = (long)id;
                    return ((long)id, null);
                }
            }
            catch (JsonException)
            {
                // Reported below.
            }
            return (0, attempt.Unexpected(reply, "create user: the response carries no user id"));
        }
    }

    /// <summary>Whether <c>meta.pagination</c> names a page after <paramref name="page"/>.</summary>
    internal static bool HasNextPage(JsonElement root, int page)
    {
        if (!root.TryGetProperty("meta", out var meta) || !meta.TryGetProperty("pagination", out var p)) return false;
        if (p.TryGetProperty("next_page", out var next)) return next.ValueKind == JsonValueKind.Number;
        return p.TryGetProperty("total_pages", out var total) && total.TryGetDouble(out var pages) && page < pages;
    }

    /// <summary>
    /// Thinkific requires a first and a last name to create a user. From the mapped fields
    /// (<c>first_name</c>, <c>last_name</c>, else <c>name</c> split at its first space); what is still
    /// missing becomes the email's local part and "-", which the student can change in their profile.
    /// </summary>
    internal static (string First, string Last) Names(DesiredContact desired)
    {
        string? Field(string key) => desired.Fields.FirstOrDefault(f => f.Key == key).Value is { Length: > 0 } v && v.Trim().Length > 0 ? v.Trim() : null;
        var first = Field("first_name");
        var last = Field("last_name");
        if ((first is null || last is null) && Field("name") is { } name)
        {
            var space = name.IndexOf(' ', StringComparison.Ordinal);
            first ??= space > 0 ? name[..space] : name;
            last ??= space > 0 ? name[(space + 1)..].Trim() : null;
        }
        first ??= desired.Email.Split('@')[0];
        return (first, last ?? "-");
    }

    private TimeProvider Time => time;
}
