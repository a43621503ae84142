using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Integrations.Mixpanel;

/// <summary>
/// Mixpanel's ingestion API as documented (docs.mixpanel.com/reference/import-events, /reference/profile-set):
/// <c>POST /import?strict=1&amp;project_id=</c> with HTTP Basic of a service account (401 otherwise),
/// JSON or gzipped JSON, at most 2000 events; each event validated (name, time not over an hour in the
/// future, distinct_id not a placeholder such as "anonymous", $insert_id of at most 36 letters, digits
/// and '-'); a 400 with <c>failed_records[{index, insert_id, field, message}]</c> ingests the rest.
/// Events are deduplicated by (event, distinct_id, time, $insert_id), as Mixpanel does.
/// <c>POST /engage?verbose=1</c> answers 200 <c>{"status":1,"error":null}</c>, or status 0 with an error
/// (a wrong $token), and keeps profile properties. Switches: 429 (no Retry-After: Mixpanel documents
/// none, unless one is given), a 5xx, or every event of the next requests rejected.
/// </summary>
public sealed partial class FakeMixpanel : IAsyncDisposable
{
    public const string ProjectId = "3141592";
    public const string Username = "junction.sa";
    public const string Secret = "mp-sa-secret-1234";
    public const string Token = "mp-project-token";

    private static readonly string[] PlaceholderIds = ["anon", "anonymous", "nil", "none", "null", "n/a", "undefined", "00000000-0000-0000-0000-000000000000"];

    private readonly Lock _gate = new();
    private readonly List<JsonObject> _events = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _profiles = new(StringComparer.Ordinal);
    private int _rateLimitNext;
    private string? _retryAfter;
    private int _failNext;
    private int _failStatus = 500;
    private int _rejectNext;

    public FakeApi Api { get; private set; } = null!;

    public Uri BaseUrl => Api.BaseUrl;

    public static async Task<FakeMixpanel> StartAsync()
    {
        var fake = new FakeMixpanel();
        fake.Api = await FakeApi.StartAsync(app =>
        {
            app.MapPost("/import", (Func<HttpContext, Task<IResult>>)fake.ImportAsync);
            app.MapPost("/engage", (Func<HttpContext, Task<IResult>>)fake.EngageAsync);
        });
        return fake;
    }

    public void RateLimitNext(int count, string? retryAfter = null)
    {
        lock (_gate) (_rateLimitNext, _retryAfter) = (count, retryAfter);
    }

    public void FailNext(int count, int status = 500)
    {
        lock (_gate) (_failNext, _failStatus) = (count, status);
    }

    /// <summary>Every event of the next <paramref name="count"/> imports fails validation (a 400 naming each).</summary>
    public void RejectNext(int count)
    {
        lock (_gate) _rejectNext = count;
    }

    /// <summary>Events ingested (after deduplication), in arrival order.</summary>
    public IReadOnlyList<JsonObject> Events
    {
        get { lock (_gate) return [.. _events.Select(e => (JsonObject)e.DeepClone())]; }
    }

    public JsonObject? Profile(string distinctId)
    {
        lock (_gate) return _profiles.TryGetValue(distinctId, out var p) ? (JsonObject)p.DeepClone() : null;
    }

    private async Task<IResult> ImportAsync(HttpContext context)
    {
        var text = await ReadBodyAsync(context);
        lock (_gate)
        {
            if (_rateLimitNext > 0)
            {
                _rateLimitNext--;
                if (_retryAfter is not null) context.Response.Headers.RetryAfter = _retryAfter;
                return Error(429, "Project exceeded rate limits. Please retry the request with exponential backoff.", "Too Many Requests");
            }
            if (_failNext > 0)
            {
                _failNext--;
                return Error(_failStatus, "Internal server error", "Internal Server Error");
            }
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Username + ":" + Secret));
            if (context.Request.Headers.Authorization != expected || context.Request.Query["project_id"] != ProjectId)
            {
                return Error(401, "Invalid credentials", "Unauthorized");
            }
            JsonArray events;
            try
            {
                events = JsonNode.Parse(text) as JsonArray ?? throw new System.Text.Json.JsonException();
            }
            catch (System.Text.Json.JsonException)
            {
                return Error(400, "unable to parse request body as JSON", "Bad Request");
            }
            if (events.Count > 2000) return Error(400, "too many events in the request (max 2000)", "Bad Request");

            var failed = new JsonArray();
            var reject = _rejectNext > 0;
            if (reject) _rejectNext--;
            var imported = 0;
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i] as JsonObject;
                var insertId = e?["properties"]?["$insert_id"]?.ToString();
                var (field, message) = reject ? ("properties", "rejected by the test") : Invalid(e);
                if (field is not null)
                {
                    failed.Add(new JsonObject { ["index"] = i, ["insert_id"] = insertId, ["field"] = field, ["message"] = message });
                    continue;
                }
                imported++;
                var p = e!["properties"]!;
                var key = $"{e["event"]}\n{p["distinct_id"]}\n{p["time"]}\n{insertId}";
                if (_seen.Add(key)) _events.Add((JsonObject)e.DeepClone());
            }
            if (failed.Count > 0)
            {
                return Results.Json(new JsonObject
                {
                    ["code"] = 400, ["error"] = "some data points in the request failed validation", ["status"] = "Bad Request",
                    ["num_records_imported"] = imported, ["failed_records"] = failed,
                }, statusCode: 400);
            }
            return Results.Json(new JsonObject { ["code"] = 200, ["num_records_imported"] = imported, ["status"] = "OK" });
        }
    }

    private static (string? Field, string? Message) Invalid(JsonObject? e)
    {
        if (e?["event"] is not JsonValue name || string.IsNullOrEmpty(name.ToString())) return ("event", "'event' must be a non-empty string");
        if (e["properties"] is not JsonObject p) return ("properties", "'properties' must be an object");
        if (p["time"] is not JsonValue time || !time.TryGetValue<long>(out var ms)) return ("properties.time", "'properties.time' is invalid: must be specified as seconds since epoch");
        if (ms > TimeProvider.System.GetUtcNow().AddHours(1).ToUnixTimeMilliseconds()) return ("properties.time", "'properties.time' is more than one hour in the future");
        var distinct = p["distinct_id"]?.ToString();
        if (distinct is null) return ("properties.distinct_id", "'properties.distinct_id' is required");
        if (PlaceholderIds.Contains(distinct.ToLowerInvariant())) return ("properties.distinct_id", $"'properties.distinct_id' is invalid: {distinct} is not allowed");
        if (p["$insert_id"]?.ToString() is not { } insertId || !InsertId().IsMatch(insertId))
        {
            return ("properties.$insert_id", "'properties.$insert_id' is invalid: must be a string of at most 36 alphanumeric characters or '-'");
        }
        return (null, null);
    }

    private async Task<IResult> EngageAsync(HttpContext context)
    {
        var text = await ReadBodyAsync(context);
        lock (_gate)
        {
            if (_rateLimitNext > 0)
            {
                _rateLimitNext--;
                return Error(429, "Project exceeded rate limits.", "Too Many Requests");
            }
            if (JsonNode.Parse(text) is not JsonArray updates) return Results.Json(new JsonObject { ["status"] = 0, ["error"] = "data is not an array" });
            foreach (var update in updates)
            {
                if (update?["$token"]?.ToString() != Token) return Results.Json(new JsonObject { ["status"] = 0, ["error"] = "token, missing or empty" });
            }
            foreach (var update in updates)
            {
                var id = update!["$distinct_id"]!.ToString();
                if (!_profiles.TryGetValue(id, out var profile)) _profiles[id] = profile = [];
                foreach (var (key, value) in update["$set"]?.AsObject() ?? []) profile[key] = value?.DeepClone();
            }
            return Results.Json(new JsonObject { ["status"] = 1, ["error"] = null });
        }
    }

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        Stream body = context.Request.Body;
        if (string.Equals(context.Request.Headers.ContentEncoding, "gzip", StringComparison.OrdinalIgnoreCase)) body = new GZipStream(body, CompressionMode.Decompress);
        using var reader = new StreamReader(body, Encoding.UTF8);
        return await reader.ReadToEndAsync(context.RequestAborted);
    }

    private static IResult Error(int status, string error, string statusText) =>
        Results.Json(new JsonObject { ["code"] = status, ["error"] = error, ["status"] = statusText }, statusCode: status);

    [GeneratedRegex("^[A-Za-z0-9-]{1,36}$")]
    private static partial Regex InsertId();

    public ValueTask DisposeAsync() => Api.DisposeAsync();
}
