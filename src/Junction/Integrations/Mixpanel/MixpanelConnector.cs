using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Canonical;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Mixpanel;

/// <summary>
/// Mixpanel (event destination, batched): canonical events go to the Import API,
/// <c>POST {base_url}/import?strict=1&amp;project_id=…</c>, gzipped, many per request
/// (docs.mixpanel.com/reference/import-events). Each event's <c>$insert_id</c> comes from the task's
/// idempotency key, so a retried or replayed batch is deduplicated by Mixpanel instead of counted
/// twice. With <c>strict=1</c> a 400 names each rejected event (<c>failed_records[].index</c>) while the
/// others are ingested: only the named tasks fail. With <c>people: true</c> each person of the batch
/// gets <c>$email</c> and <c>$name</c> set through the Engage API (<c>/engage#profile-set</c>).
/// </summary>
public sealed class MixpanelConnector(DestinationConfig config, HttpClient http, TimeProvider time) : IBatchConnector
{
    /// <summary>"We accept up to 2000 events and 10MB uncompressed per request" (docs.mixpanel.com/reference/import-events).</summary>
    public const int MaxEventsPerRequest = 2000;

    /// <summary>The import API's uncompressed body limit; a larger batch is split.</summary>
    public const int MaxRequestBytes = 10 * 1000 * 1000;

    /// <summary>
    /// Mixpanel documents no Retry-After on its 429 ("compute your own backoff"); its advice is to start at
    /// 2 s (docs.mixpanel.com/troubleshooting/errors/429-rate-limit-exceeded). The dispatcher backs off from there.
    /// </summary>
    public static readonly TimeSpan RateLimitWait = TimeSpan.FromSeconds(2);

    public DestinationConfig Config { get; } = config;

    public int MaxBatch => MaxEventsPerRequest;

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken) =>
        (await DeliverBatchAsync([work], cancellationToken))[0];

    public async Task<IReadOnlyList<DeliveryResult>> DeliverBatchAsync(IReadOnlyList<DeliveryWork> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var results = new DeliveryResult?[work.Count];
        var attempt = NewHttp();

        if (ConfigProblem() is { } problem)
        {
            return [.. work.Select(_ => attempt.Permanent(problem))];
        }
        var token = Option("token");

        var pending = new List<(int Index, JsonObject Event, string Json)>();
        for (var i = 0; i < work.Count; i++)
        {
            if (work[i].Event is not { } canonical)
            {
                results[i] = attempt.Permanent("mixpanel: the task carries no canonical event");
                continue;
            }
            // Analytics must not count a test purchase as revenue.
            if (canonical.TestMode)
            {
                results[i] = attempt.Succeeded();
                continue;
            }
            var e = Event(canonical, work[i].PersonId, work[i].IdempotencyKey, token);
            pending.Add((i, e, e.ToJsonString()));
        }

        foreach (var chunk in Chunks(pending))
        {
            await ImportAsync(work, chunk, results, cancellationToken);
        }

        if (Flag("people"))
        {
            await SetProfilesAsync(work, results, token!, cancellationToken);
        }
        return [.. results.Select(r => r ?? attempt.Succeeded())];
    }

    private async Task ImportAsync(IReadOnlyList<DeliveryWork> work, List<(int Index, JsonObject Event, string Json)> chunk,
        DeliveryResult?[] results, CancellationToken cancellationToken)
    {
        var http = NewHttp();
        var shown = "/import?strict=1&project_id=" + Uri.EscapeDataString(Option("project_id") ?? "");
        var body = "[" + string.Join(",", chunk.Select(c => c.Json)) + "]";
        var reply = await http.SendAsync(HttpMethod.Post, DestinationHttp.Under(Config.BaseUrl, shown), shown, body, request =>
        {
            Authorize(request);
            // "We also support Content-Encoding: gzip to reduce network egress" (import-events).
            request.Content = Gzip(body);
        }, cancellationToken);

        // What each task's DLQ entry shows: the request line and its own event, not the whole batch.
        string Sent(int c) => $"POST {shown} {chunk[c].Json}";

        if (reply.IsSuccess)
        {
            for (var c = 0; c < chunk.Count; c++) results[chunk[c].Index] = http.Succeeded() with { Requests = [Sent(c)], Response = null };
            return;
        }

        if (reply.Status == 400 && FailedRecords(reply.Body) is { Count: > 0 } failed)
        {
            // A partial success: Mixpanel ingested every event it did not name.
            var byInsertId = chunk.Select((c, i) => (Id: c.Event["properties"]!["$insert_id"]!.GetValue<string>(), i))
                .GroupBy(p => p.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
            var rejected = new Dictionary<int, string>();
            foreach (var (index, insertId, reason) in failed)
            {
                var c = index is >= 0 and var n && n < chunk.Count ? n
                    : insertId is not null && byInsertId.TryGetValue(insertId, out var found) ? found : -1;
                if (c < 0) continue;
                rejected[c] = rejected.TryGetValue(c, out var earlier) ? earlier + "; " + reason : reason;
            }
            for (var c = 0; c < chunk.Count; c++)
            {
                results[chunk[c].Index] = rejected.TryGetValue(c, out var reason)
                    ? http.Permanent("mixpanel import: 400 Bad Request: " + Observability.Pii.Redact(reason), 400) with { Requests = [Sent(c)] }
                    : http.Succeeded() with { Status = 200, Requests = [Sent(c)], Response = null };
            }
            return;
        }

        var failure = http.Failed(reply, "mixpanel import", ErrorMessage);
        if (reply.Status is 401 or 403)
        {
            failure = failure with { Error = failure.Error + $" (destinations.{Config.Id}.credentials.username / secret and project_id: an Owner or Admin service account of the project)" };
        }
        for (var c = 0; c < chunk.Count; c++) results[chunk[c].Index] = failure with { Requests = [Sent(c)] };
    }

    /// <summary>Engage API profile-set for each person whose events were imported: $email and $name from the latest event that names them.</summary>
    private async Task SetProfilesAsync(IReadOnlyList<DeliveryWork> work, DeliveryResult?[] results, string token, CancellationToken cancellationToken)
    {
        var latest = new Dictionary<string, (string? Email, string? Name, List<int> Tasks)>(StringComparer.Ordinal);
        for (var i = 0; i < work.Count; i++)
        {
            if (results[i] is not { Outcome: DeliveryOutcome.Succeeded } || work[i].Event is not { TestMode: false } e) continue;
            if (!latest.TryGetValue(work[i].PersonId, out var person)) person = (null, null, []);
            person.Tasks.Add(i);
            latest[work[i].PersonId] = (e.Subject.Email ?? person.Email, e.Subject.Name ?? person.Name, person.Tasks);
        }
        var updates = new JsonArray();
        var tasks = new List<int>();
        foreach (var (personId, person) in latest)
        {
            var set = new JsonObject();
            if (person.Email is { } email) set["$email"] = email;
            if (person.Name is { } name) set["$name"] = name;
            if (set.Count == 0) continue;
            // $ip 0: the server's address is not the person's; $ignore_time: an import is not activity.
            updates.Add(new JsonObject
            {
                ["$token"] = token, ["$distinct_id"] = personId, ["$ip"] = "0", ["$ignore_time"] = true, ["$set"] = set,
            });
            tasks.AddRange(person.Tasks);
        }
        if (updates.Count == 0) return;

        var http = NewHttp();
        // The Engage API authenticates by the $token in each update and does not take gzip (profile-set docs).
        const string shown = "/engage?verbose=1";
        var body = updates.ToJsonString();
        var reply = await http.SendAsync(HttpMethod.Post, DestinationHttp.Under(Config.BaseUrl, shown), "/engage?verbose=1", body,
            r => r.Headers.Accept.ParseAdd("application/json"), cancellationToken);
        DeliveryResult? failure = null;
        if (!reply.IsSuccess)
        {
            failure = http.Failed(reply, "mixpanel engage", ErrorMessage);
        }
        else if (EngageError(reply.Body) is { } error)
        {
            // "This API will return a 200 OK even if there are data validation issues" (profile-set docs).
            failure = http.Permanent("mixpanel engage: " + Observability.Pii.Redact(error), reply.Status);
        }
        if (failure is null) return;
        // The events are in; a retry re-sends them under the same $insert_id, which Mixpanel deduplicates.
        foreach (var i in tasks) results[i] = failure with { Requests = [.. results[i]!.Requests, "POST " + shown] };
    }

    /// <summary>One import event: name, distinct_id = the person, time in ms, $insert_id from the idempotency key.</summary>
    internal static JsonObject Event(CanonicalEvent canonical, string personId, string idempotencyKey, string? token)
    {
        var properties = new JsonObject
        {
            ["time"] = canonical.OccurredAt.ToUnixTimeMilliseconds(),
            ["distinct_id"] = personId,
            ["$insert_id"] = InsertId(idempotencyKey),
        };
        if (!string.IsNullOrEmpty(token)) properties["token"] = token;
        properties["event_type"] = canonical.Type;
        properties["source"] = canonical.Source;
        properties["provider"] = canonical.Provider;
        properties["junction_event_id"] = canonical.Id;

        if (canonical.Order is { } order)
        {
            properties["order_id"] = order.OrderId;
            var currency = Money.Currency(order.Currency);
            if (currency is not null)
            {
                properties["currency"] = currency;
                if (order.Amount is { } amount) properties["amount"] = Money.ToMajor(amount, currency);
                if (order.RefundAmount is { } refund) properties["refund_amount"] = Money.ToMajor(refund, currency);
            }
            if (order.FullyRefunded is { } full) properties["fully_refunded"] = full;
            var products = order.Items.Select(i => i.Sku ?? i.ProductId ?? i.Name).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            if (products.Count > 0) properties["products"] = new JsonArray([.. products.Select(p => (JsonNode)p)]);
        }
        if (canonical.Subscription is { } subscription) properties["subscription_id"] = subscription.SubscriptionId;
        if (canonical.Access is { } access) properties["course_id"] = access.ProductId;
        if (canonical.Attribution is { IsEmpty: false } a)
        {
            // Mixpanel's own names for campaign parameters.
            if (a.UtmSource is { } s) properties["utm_source"] = s;
            if (a.UtmMedium is { } m) properties["utm_medium"] = m;
            if (a.UtmCampaign is { } c) properties["utm_campaign"] = c;
            if (a.UtmTerm is { } t) properties["utm_term"] = t;
            if (a.UtmContent is { } n) properties["utm_content"] = n;
            if (a.Referrer is { } r) properties["$referrer"] = r;
        }
        return new JsonObject { ["event"] = EventName(canonical.Type), ["properties"] = properties };
    }

    /// <summary>order.paid → "Order Paid", spam_complaint → "Spam Complaint": Mixpanel's usual event naming.</summary>
    internal static string EventName(string type)
    {
        var words = type.Split(['.', '_'], StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', words.Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
    }

    /// <summary>
    /// The idempotency key when it already fits Mixpanel's rule for $insert_id (at most 36 characters,
    /// letters, digits and '-'; docs.mixpanel.com/reference/import-events), else 32 hex characters of its SHA-256:
    /// the same key always gives the same id.
    /// </summary>
    internal static string InsertId(string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        if (idempotencyKey.Length is > 0 and <= 36 && idempotencyKey.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-')) return idempotencyKey;
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)).AsSpan(0, 16));
    }

    private static IEnumerable<List<(int Index, JsonObject Event, string Json)>> Chunks(List<(int Index, JsonObject Event, string Json)> events)
    {
        var chunk = new List<(int, JsonObject, string)>();
        var bytes = 2;
        foreach (var e in events)
        {
            var size = Encoding.UTF8.GetByteCount(e.Json) + 1;
            if (chunk.Count > 0 && (chunk.Count == MaxEventsPerRequest || bytes + size > MaxRequestBytes))
            {
                yield return chunk;
                chunk = [];
                bytes = 2;
            }
            chunk.Add(e);
            bytes += size;
        }
        if (chunk.Count > 0) yield return chunk;
    }

    /// <summary>strict=1's <c>failed_records</c>: index in the request, insert_id, and "field: message".</summary>
    internal static List<(int Index, string? InsertId, string Reason)>? FailedRecords(string body)
    {
        try
        {
            if (JsonNode.Parse(body)?["failed_records"] is not JsonArray records) return null;
            var list = new List<(int, string?, string)>();
            foreach (var record in records)
            {
                if (record is not JsonObject r) continue;
                var index = r["index"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : -1;
                var field = r["field"]?.ToString();
                var message = r["message"]?.ToString() ?? "rejected";
                list.Add((index, r["insert_id"]?.ToString(), string.IsNullOrEmpty(field) ? message : field + ": " + message));
            }
            return list;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static string? ErrorMessage(string body) => JsonNode.Parse(body)?["error"]?.ToString();

    private static string? EngageError(string body)
    {
        try
        {
            var node = JsonNode.Parse(body);
            if (node?["status"] is JsonValue status && status.ToString() == "1") return null;
            return node?["error"]?.ToString() ?? "status 0";
        }
        catch (JsonException)
        {
            // Without verbose=1 the answer is a bare 1 or 0.
            return body.Trim() == "1" ? null : "unexpected answer: " + DestinationHttp.Truncate(body);
        }
    }

    private string? ConfigProblem()
    {
        if (!Config.Credentials.TryGetValue("secret", out var secret) || string.IsNullOrWhiteSpace(secret))
        {
            return $"destinations.{Config.Id}.credentials.secret: required for Mixpanel (a service account secret)";
        }
        if (Config.Credentials.TryGetValue("username", out var user) && !string.IsNullOrWhiteSpace(user) && string.IsNullOrWhiteSpace(Option("project_id")))
        {
            return $"destinations.{Config.Id}.project_id: required with a service account (the project's numeric id)";
        }
        if (Flag("people") && string.IsNullOrWhiteSpace(Option("token")))
        {
            return $"destinations.{Config.Id}.token: required when people is true (the Engage API authenticates by the project token)";
        }
        return null;
    }

    private void Authorize(HttpRequestMessage request)
    {
        var secret = Config.Credentials["secret"];
        // A service account is username:secret; the legacy project secret is the username with an empty password.
        var pair = Config.Credentials.TryGetValue("username", out var user) && !string.IsNullOrWhiteSpace(user) ? user + ":" + secret : secret + ":";
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
        request.Headers.Accept.ParseAdd("application/json");
    }

    private static ByteArrayContent Gzip(string json)
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            zip.Write(Encoding.UTF8.GetBytes(json));
        }
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    private DestinationHttp NewHttp() => new(http, time) { DefaultRetryAfter = RateLimitWait };

    private string? Option(string key) => Config.Options.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    private bool Flag(string key) => string.Equals(Option(key), "true", StringComparison.OrdinalIgnoreCase);
}
