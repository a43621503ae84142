using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Teachable;

/// <summary>
/// Teachable public API v1 (developers.teachable.com, <c>apiKey</c> header). A state destination
/// of which only course access (and the user's email and name) matters: finds the user by email
/// (<c>GET /v1/users?email=</c>), creates it when missing (<c>POST /v1/users</c>), then enrolls in
/// the courses desired but not last synced and unenrolls from the ones last synced but no longer
/// desired (<c>POST /v1/enroll</c>, <c>POST /v1/unenroll</c>, body <c>{user_id, course_id}</c>).
/// Courses Junction never granted are left alone. A retry after a partial success is safe: courses
/// the user is already actively enrolled in (<c>GET /v1/users/{id}</c>) are not enrolled again, and an
/// unenroll answered 404 (not enrolled) counts as done.
/// </summary>
public sealed class TeachableConnector(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationConnector
{
    // docs.teachable.com "Rate Limits": 429 {"message": "API rate limit exceeded"} with
    // RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset (seconds to wait), not Retry-After.
    private const string ResetHeader = "RateLimit-Reset";

    public DestinationConfig Config { get; } = config;

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        var attempt = new DestinationHttp(http, time) { ResetHeaders = [ResetHeader] };
        if (!Config.Credentials.TryGetValue("api_key", out var apiKey) || string.IsNullOrWhiteSpace(apiKey))
        {
            return attempt.Permanent($"destinations.{Config.Id}.credentials.api_key: required for Teachable");
        }
        if (work.Kind == DeliveryKinds.Erase && work.Erase is { } erase) return await EraseAsync(new Api(this, attempt, apiKey), attempt, erase, cancellationToken);
        if (work.Desired is not { } desired) return attempt.Permanent("teachable: the task carries no desired state");

        var last = work.LastSynced;
        // A changed email is another Teachable user: the old one loses what Junction granted it, the new one gets all of it.
        var sameUser = last is not null && string.Equals(last.Email, desired.Email, StringComparison.OrdinalIgnoreCase);
        var lastCourses = last?.Courses ?? [];
        var enroll = desired.Courses.Where(c => !sameUser || !lastCourses.Contains(c, StringComparer.Ordinal)).ToList();
        var unenroll = lastCourses.Where(c => !sameUser || !desired.Courses.Contains(c, StringComparer.Ordinal)).ToList();
        if (enroll.Count == 0 && unenroll.Count == 0) return attempt.Succeeded();

        foreach (var course in enroll.Concat(unenroll))
        {
            if (!int.TryParse(course, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
            {
                return attempt.Permanent($"destinations.{Config.Id}.courses: '{course}' is not a Teachable course id (a positive integer)");
            }
        }

        var api = new Api(this, attempt, apiKey);

        if (unenroll.Count > 0)
        {
            var (oldUser, failure) = await api.FindUserAsync(sameUser ? desired.Email : last!.Email, cancellationToken);
            if (failure is not null) return failure;
            // No user with that email: nothing to take away.
            if (oldUser is { } userId)
            {
                foreach (var course in unenroll)
                {
                    var reply = await api.PostAsync("v1/unenroll", Enrollment(userId, course), cancellationToken);
                    if (!reply.IsSuccess && reply.Status != 404) return attempt.Failed(reply, $"unenroll from course {course}", Api.Message);
                }
            }
        }

        if (enroll.Count > 0)
        {
            var (found, failure) = await api.FindUserAsync(desired.Email, cancellationToken);
            if (failure is not null) return failure;
            int userId;
            if (found is { } existing)
            {
                userId = existing;
                var (active, detailFailure) = await api.ActiveCoursesAsync(userId, cancellationToken);
                if (detailFailure is not null) return detailFailure;
                enroll.RemoveAll(active.Contains);
            }
            else
            {
                var (created, createFailure) = await api.CreateUserAsync(desired, cancellationToken);
                if (createFailure is not null) return createFailure;
                userId = created;
            }

            foreach (var course in enroll)
            {
                var reply = await api.PostAsync("v1/enroll", Enrollment(userId, course), cancellationToken);
                if (!reply.IsSuccess) return attempt.Failed(reply, $"enroll in course {course}", Api.Message);
            }
        }
        return attempt.Succeeded();
    }

    /// <summary>
    /// A forgotten person (R8.4): the user is unenrolled from every course it is actively enrolled in
    /// (<c>POST /v1/unenroll</c>). Teachable's public API v1 deletes no users, so removing the user
    /// record is a step in the school's admin (docs/data-rights.md). No user: done.
    /// </summary>
    private static async Task<DeliveryResult> EraseAsync(Api api, DestinationHttp attempt, ContactErasure erase, CancellationToken cancellationToken)
    {
        foreach (var email in erase.Emails)
        {
            var (found, failure) = await api.FindUserAsync(email, cancellationToken);
            if (failure is not null) return failure;
            if (found is not { } userId) continue;
            var (active, detailFailure) = await api.ActiveCoursesAsync(userId, cancellationToken);
            if (detailFailure is not null) return detailFailure;
            foreach (var course in active.Order(StringComparer.Ordinal))
            {
                if (!int.TryParse(course, NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue;
                var reply = await api.PostAsync("v1/unenroll", Enrollment(userId, course), cancellationToken);
                if (!reply.IsSuccess && reply.Status != 404) return attempt.Failed(reply, $"unenroll from course {course}", Api.Message);
            }
        }
        return attempt.Succeeded();
    }

    private static string Enrollment(int userId, string course) =>
        new JsonObject { ["user_id"] = userId, ["course_id"] = int.Parse(course, CultureInfo.InvariantCulture) }.ToJsonString();

    /// <summary>The user's display name from the mapped fields: <c>name</c>, else <c>first_name last_name</c>.</summary>
    internal static string? Name(DesiredContact desired)
    {
        string? Field(string key) => desired.Fields.FirstOrDefault(f => f.Key == key).Value is { Length: > 0 } v ? v.Trim() : null;
        if (Field("name") is { } name) return name;
        var joined = string.Join(' ', new[] { Field("first_name"), Field("last_name") }.Where(s => s is not null));
        return joined.Length > 0 ? joined : null;
    }

    private sealed class Api(TeachableConnector connector, DestinationHttp attempt, string apiKey)
    {
        public Task<HttpReply> PostAsync(string path, string json, CancellationToken cancellationToken) =>
            attempt.SendAsync(HttpMethod.Post, Url(path), "/" + path, json, Auth, cancellationToken);

        private readonly Dictionary<string, int?> _found = new(StringComparer.OrdinalIgnoreCase);

        public async Task<(int? UserId, DeliveryResult? Failure)> FindUserAsync(string email, CancellationToken cancellationToken)
        {
            if (_found.TryGetValue(email, out var known)) return (known, null);
            var (id, failure) = await LookUpAsync(email, cancellationToken);
            if (failure is null) _found[email] = id;
            return (id, failure);
        }

        private async Task<(int? UserId, DeliveryResult? Failure)> LookUpAsync(string email, CancellationToken cancellationToken)
        {
            var path = "v1/users?email=" + Uri.EscapeDataString(email);
            var reply = await attempt.SendAsync(HttpMethod.Get, Url(path), "/" + path, null, Auth, cancellationToken);
            if (!reply.IsSuccess) return (null, attempt.Failed(reply, "find user", Message));
            try
            {
                var users = JsonNode.Parse(reply.Body)?["users"] as JsonArray ?? [];
                // The email filter is documented as a filter, not an exact lookup: match it ourselves.
                foreach (var user in users)
                {
                    if (user?["email"]?.GetValue<string>() is { } found && string.Equals(found.Trim(), email, StringComparison.OrdinalIgnoreCase)
                        && Id(user) is { } id)
                    {
                        return (id, null);
                    }
                }
                return (null, null);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                return (null, attempt.Permanent($"find user: unexpected response body ({e.Message})", reply.Status));
            }
        }

        /// <summary>The courses the user is actively enrolled in (<c>courses[].is_active_enrollment</c>).</summary>
        public async Task<(HashSet<string> Active, DeliveryResult? Failure)> ActiveCoursesAsync(int userId, CancellationToken cancellationToken)
        {
            var path = "v1/users/" + userId.ToString(CultureInfo.InvariantCulture);
            var reply = await attempt.SendAsync(HttpMethod.Get, Url(path), "/" + path, null, Auth, cancellationToken);
            var active = new HashSet<string>(StringComparer.Ordinal);
            if (!reply.IsSuccess) return (active, attempt.Failed(reply, "get user", Message));
            try
            {
                var root = JsonNode.Parse(reply.Body);
                var user = root?["user"] ?? root;
                foreach (var course in user?["courses"] as JsonArray ?? [])
                {
                    if (course?["is_active_enrollment"]?.GetValue<bool>() == true && course["course_id"] is { } id)
                    {
                        active.Add(id.ToJsonString().Trim('"'));
                    }
                }
                return (active, null);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                return (active, attempt.Permanent($"get user: unexpected response body ({e.Message})", reply.Status));
            }
        }

        public async Task<(int UserId, DeliveryResult? Failure)> CreateUserAsync(DesiredContact desired, CancellationToken cancellationToken)
        {
            var body = new JsonObject { ["email"] = desired.Email };
            if (Name(desired) is { } name) body["name"] = name;
            body["src"] = "Junction";
            var reply = await PostAsync("v1/users", body.ToJsonString(), cancellationToken);
            if (!reply.IsSuccess) return (0, attempt.Failed(reply, "create user", Message));
            try
            {
                var root = JsonNode.Parse(reply.Body);
                if (Id(root?["user"] ?? root) is { } id) return (id, null);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                return (0, attempt.Permanent($"create user: unexpected response body ({e.Message})", reply.Status));
            }
            return (0, attempt.Permanent("create user: the response carries no user id", reply.Status));
        }

        /// <summary>Teachable errors are <c>{"message": "…"}</c> or <c>{"message": ["…", …]}</c>.</summary>
        public static string? Message(string body)
        {
            var message = JsonNode.Parse(body)?["message"];
            return message switch
            {
                JsonArray list => string.Join("; ", list.Select(m => m?.ToString())),
                JsonValue value => value.ToString(),
                _ => body,
            };
        }

        private static int? Id(JsonNode? user) =>
            user?["id"] is JsonValue v && v.TryGetValue<int>(out var id) ? id : null;

        // The base URL may name the host (https://developers.teachable.com) or the API root (…/v1).
        private Uri Url(string path) =>
            DestinationHttp.Under(connector.Config.BaseUrl, connector.Config.BaseUrl.AbsolutePath.TrimEnd('/').EndsWith("/v1", StringComparison.Ordinal)
                ? path["v1/".Length..]
                : path);

        private void Auth(HttpRequestMessage request)
        {
            request.Headers.TryAddWithoutValidation("apiKey", apiKey);
            request.Headers.Accept.ParseAdd("application/json");
        }
    }
}
