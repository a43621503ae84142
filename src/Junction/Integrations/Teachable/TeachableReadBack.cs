using System.Globalization;
using System.Text.Json;
using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.Teachable;

/// <summary>
/// What Teachable holds, read in bulk through public API v1 (docs.teachable.com/reference): for each
/// mapped course its active enrollments (<c>GET /v1/courses/{id}/enrollments</c>, which gives user
/// ids with <c>enrolled_at</c> and <c>expires_at</c>), then the school's users by page
/// (<c>GET /v1/users</c>) to turn those ids into emails, stopping once every enrolled id is known.
/// Both are paged with <c>page</c>/<c>per</c> and followed to <c>meta.number_of_pages</c>; the cost
/// grows with courses and pages, not with people. A course platform says nothing of subscriptions.
/// </summary>
public sealed class TeachableReadBack(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationReadBack
{
    // The page size Teachable's list endpoints accept (their default is 20).
    private const int PerPage = 100;

    private const int MaxPages = 100_000;

    // docs.teachable.com "Rate Limits": a 429 names its wait in RateLimit-Reset (seconds), not Retry-After.
    private const string ResetHeader = "RateLimit-Reset";

    public DestinationConfig Config { get; } = config;

    public async Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken)
    {
        if (!Config.Credentials.TryGetValue("api_key", out var apiKey) || string.IsNullOrWhiteSpace(apiKey))
        {
            throw new ReadBackException($"destinations.{Config.Id}.credentials.api_key: required for Teachable");
        }
        var courses = new List<(int Id, string Name)>();
        foreach (var course in Config.Courses.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!int.TryParse(course, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
            {
                throw new ReadBackException($"destinations.{Config.Id}.courses: '{course}' is not a Teachable course id (a positive integer)");
            }
            courses.Add((id, course));
        }
        var api = new ReadBackHttp(Config, http, time, gate, r => r.Headers.TryAddWithoutValidation("apiKey", apiKey))
        {
            ResetHeaders = [ResetHeader],
            DefaultRetryAfter = TimeSpan.FromSeconds(60),
        };
        // The base URL may name the host (https://developers.teachable.com) or the API root (…/v1), as for the connector.
        var root = Config.BaseUrl.AbsolutePath.TrimEnd('/').EndsWith("/v1", StringComparison.Ordinal) ? "" : "/v1";

        var now = time.GetUtcNow();
        var enrolled = new Dictionary<long, Dictionary<string, DateTimeOffset?>>();
        foreach (var (id, name) in courses)
        {
            var path = $"{root}/courses/{id.ToString(CultureInfo.InvariantCulture)}/enrollments";
            await foreach (var e in PagesAsync(api, path, "enrollments", cancellationToken))
            {
                if (!e.TryGetProperty("user_id", out var u) || !u.TryGetInt64(out var userId)) continue;
                // The list holds active enrollments; one past its expiry no longer gives access.
                if (Date(e, "expires_at") is { } expires && expires <= now) continue;
                if (!enrolled.TryGetValue(userId, out var held)) enrolled[userId] = held = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
                held[name] = Date(e, "enrolled_at");
            }
        }

        var contacts = new Dictionary<string, ObservedContact>(StringComparer.Ordinal);
        if (enrolled.Count > 0)
        {
            // An id the user list does not show has no email to match a person by, and Junction
            // writes by email: it is not one of Junction's, so it is left out rather than failing the read.
            var unresolved = enrolled.Keys.ToHashSet();
            await foreach (var user in PagesAsync(api, $"{root}/users", "users", cancellationToken, () => unresolved.Count == 0))
            {
                if (!user.TryGetProperty("id", out var i) || !i.TryGetInt64(out var userId) || !unresolved.Remove(userId)) continue;
                if (!user.TryGetProperty("email", out var e) || e.GetString() is not { Length: > 0 } raw) continue;
                var email = raw.Trim().ToLowerInvariant();
                contacts[email] = new ObservedContact { Email = email, Status = ObservedStatus.None, Courses = enrolled[userId] };
            }
        }

        return new DestinationReadBack { Destination = Config.Id, CoversSubscriptions = false, ApiCalls = api.Calls, Contacts = contacts };
    }

    private static DateTimeOffset? Date(JsonElement item, string name) =>
        item.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    /// <summary>Pages of <c>page</c>/<c>per</c> until <c>meta.number_of_pages</c> (or an empty page, or <paramref name="enough"/>).</summary>
    private static async IAsyncEnumerable<JsonElement> PagesAsync(ReadBackHttp api, string path, string items,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, Func<bool>? enough = null)
    {
        for (var page = 1; page <= MaxPages; page++)
        {
            var body = await api.GetAsync($"{path}?page={page.ToString(CultureInfo.InvariantCulture)}&per={PerPage.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
            if (!body.TryGetProperty(items, out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw new ReadBackException($"GET {path}: expected '{items}' in Teachable's answer");
            }
            var count = 0;
            foreach (var item in list.EnumerateArray())
            {
                count++;
                yield return item;
            }
            var pages = body.TryGetProperty("meta", out var meta) && meta.TryGetProperty("number_of_pages", out var n) && n.TryGetInt32(out var p) ? p : page;
            if (count == 0 || page >= pages || enough?.Invoke() == true) yield break;
        }
    }
}
