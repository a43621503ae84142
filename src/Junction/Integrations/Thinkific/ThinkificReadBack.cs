using System.Globalization;
using System.Text.Json;
using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.Thinkific;

/// <summary>
/// What Thinkific holds, read in bulk through the Admin API: for each mapped course its enrollments
/// (<c>GET /enrollments?query[course_id]=</c>, paged with <c>page</c>/<c>limit</c> and followed by
/// <c>meta.pagination</c>). Each enrollment names its student's email, so no user list is needed;
/// one that is expired (<c>expired</c>, or <c>expiry_date</c> passed) no longer gives access and is
/// left out. The cost grows with courses and pages, not with people. A course platform says
/// nothing of subscriptions.
/// </summary>
public sealed class ThinkificReadBack(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationReadBack
{
    private const int PageSize = 100;

    private const int MaxPages = 100_000;

    public DestinationConfig Config { get; } = config;

    public async Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken)
    {
        if (ThinkificConnector.CheckConfig(Config) is { } configError) throw new ReadBackException(configError);
        var courses = new List<(long Id, string Name)>();
        foreach (var course in Config.Courses.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (ThinkificConnector.CourseId(course) is not { } id) throw new ReadBackException(ThinkificConnector.CourseError(Config, course));
            courses.Add((id, course));
        }
        var api = new ReadBackHttp(Config, http, time, gate, r => ThinkificConnector.Authorize(Config, r))
        {
            // RateLimit-Reset is an epoch (see ThinkificConnector.ResetWait), which ReadBackHttp does not
            // read as a wait: a 429 waits out the documented one-minute window instead.
            DefaultRetryAfter = TimeSpan.FromSeconds(60),
        };
        // Paths are appended to the base URL, which already names the API root (…/api/public/v1).
        const string root = "";

        var now = time.GetUtcNow();
        var contacts = new Dictionary<string, Dictionary<string, DateTimeOffset?>>(StringComparer.Ordinal);
        foreach (var (id, name) in courses)
        {
            for (var page = 1; page <= MaxPages; page++)
            {
                var path = $"{root}/enrollments?query%5Bcourse_id%5D={id.ToString(CultureInfo.InvariantCulture)}&page={page.ToString(CultureInfo.InvariantCulture)}&limit={PageSize.ToString(CultureInfo.InvariantCulture)}";
                var body = await api.GetAsync(path, cancellationToken);
                if (!body.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
                {
                    throw new ReadBackException($"GET {root}/enrollments: expected 'items' in Thinkific's answer");
                }
                var count = 0;
                foreach (var item in items.EnumerateArray())
                {
                    count++;
                    if (ThinkificConnector.Enrollment.From(item) is not { } e || !e.GivesAccess(now)) continue;
                    // An enrollment with no email cannot be matched to a person, and Junction writes by email.
                    if (e.Email is not { Length: > 0 } raw) continue;
                    var email = raw.Trim().ToLowerInvariant();
                    if (!contacts.TryGetValue(email, out var held)) contacts[email] = held = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
                    held[name] = e.ActivatedAt ?? e.StartedAt;
                }
                if (count == 0 || !ThinkificConnector.HasNextPage(body, page)) break;
            }
        }

        return new DestinationReadBack
        {
            Destination = Config.Id,
            CoversSubscriptions = false,
            ApiCalls = api.Calls,
            Contacts = contacts.ToDictionary(c => c.Key, c => new ObservedContact { Email = c.Key, Status = ObservedStatus.None, Courses = c.Value }, StringComparer.Ordinal),
        };
    }
}
