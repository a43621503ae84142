using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Tests.Support;

namespace Junction.Bench.Leaks;

/// <summary>One finding of the audit, joined with the journey it is about (null: nobody the generator knows).</summary>
internal sealed record Finding(int Point, string Kind, string? Destination, string HealAction, string HealStatus, Journey? Journey);

/// <summary>
/// The 2 000-journey run: generates the journeys and their faults from a seed, drives them through
/// Junction, counts leaks before and after one audit with heal, and keeps what the report needs.
/// </summary>
internal sealed class LeakRun(int people, int seed, int concurrency, Action<string> log)
{
    public const double BuyRate = 0.6, RefundRate = 0.10, DuplicateRate = 0.20, ReorderRate = 0.20, MissedRate = 0.05,
        DestinationFailureRate = 0.10, SilentDropRate = 0.02, TamperRate = 0.01;

    /// <summary>A hung API stalls Junction's dispatcher for its 30 s timeout, so hangs come as a few episodes, not one per person.</summary>
    public const int MaxHangsPerDestination = 1;

    public static readonly TimeSpan HangFor = TimeSpan.FromSeconds(35);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _hangs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _hangUntil = new(StringComparer.Ordinal);
    private volatile bool _faultsOn;

    public int People => people;
    public int Seed => seed;
    public List<Journey> Journeys { get; } = [];
    public Dictionary<string, Journey> ByEmail { get; } = new(StringComparer.OrdinalIgnoreCase);
    public Dictionary<string, Journey> ByOrder { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Journey> ByPerson { get; } = new(StringComparer.Ordinal);

    public Dictionary<Journey, List<string>> LeaksBefore { get; } = [];
    public Dictionary<Journey, List<string>> LeaksAfter { get; } = [];
    public List<Finding> Findings { get; } = [];
    public List<Finding> SecondFindings { get; } = [];
    public JsonElement AuditReport { get; private set; }
    public TimeSpan AuditWall { get; private set; }
    public Dictionary<string, int> ReadCalls { get; private set; } = [];
    public int ReportedCalls { get; private set; }
    public TimeSpan DriveTime { get; private set; }
    public TimeSpan SettleTime { get; private set; }
    public TimeSpan HealSettleTime { get; private set; }
    public bool Settled { get; private set; }
    public bool HealSettled { get; private set; }
    public int WebhooksSent { get; private set; }
    public int Refused { get; private set; }
    public int TimeoutRequests { get; private set; }
    public int StatusFailures { get; private set; }
    public int Drops { get; private set; }
    public List<string> ReadErrors { get; } = [];

    public async Task RunAsync(Stack stack)
    {
        Generate(stack);
        log($"{Journeys.Count} journeys: {Journeys.Count(j => j.Buys)} purchases, {Journeys.Count(j => j.Refunds)} refunds; {stack.Stripe.EventCount} Stripe events in its list");
        stack.Kit.Api.Faults = r => Fault(stack, "kit", r);
        stack.Teachable.Api.Faults = r => Fault(stack, "teachable", r);
        _faultsOn = true;

        // Refunds come later than purchases: a journey's refund is sent once its purchase has reached
        // the tools (so that removing the paid tag and the enrollment is a write a fault can hit),
        // except in reordered journeys, whose refund arrives first.
        var clock = Stopwatch.StartNew();
        await DriveAsync(stack, refunds: false);
        log($"opt-ins and purchases driven in {clock.Elapsed.TotalSeconds:0.0} s; waiting for them to settle");
        var settled = await stack.SettleAsync(TimeSpan.FromMinutes(10));
        await DriveAsync(stack, refunds: true);
        DriveTime = clock.Elapsed;
        log($"refunds driven: {DriveTime.TotalSeconds:0.0} s in all ({WebhooksSent} webhooks and opt-ins sent, {Refused} refused); waiting for the pipeline to settle (retries included)");
        clock.Restart();
        Settled = await stack.SettleAsync(TimeSpan.FromMinutes(10)) && settled;
        SettleTime = clock.Elapsed;
        _faultsOn = false;
        log($"settled: {Settled} after {SettleTime.TotalSeconds:0.0} s");

        Tamper(stack);
        await LookUpPeopleAsync(stack);
        Measure(stack, LeaksBefore);
        log($"leaks before the audit: {LeaksBefore.Values.Sum(l => l.Count)} in {LeaksBefore.Count} people");

        var (report, wall) = await stack.AuditAsync(heal: true, TimeSpan.FromMinutes(10));
        ReadCalls = ReadBackRequests(stack, report);
        AuditWall = wall;
        ReportedCalls = report.TryGetProperty("api_calls", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : -1;
        foreach (var e in report.GetProperty("read_errors").EnumerateArray()) ReadErrors.Add(e.GetString() ?? "");
        log($"audit {report.GetProperty("status").GetString()} in {wall.TotalSeconds:0.0} s, {ReportedCalls} API calls; waiting for its heals to settle");

        clock.Restart();
        HealSettled = await stack.SettleAsync(TimeSpan.FromMinutes(10));
        HealSettleTime = clock.Elapsed;
        // Heal statuses as they stand once the heals have run.
        AuditReport = await stack.Admin.GetFromJsonAsync<JsonElement>($"/v1/audits/{report.GetProperty("id").GetString()}");
        Findings.AddRange(Join(AuditReport));
        Measure(stack, LeaksAfter);
        log($"heals settled: {HealSettled} after {HealSettleTime.TotalSeconds:0.0} s; leaks after: {LeaksAfter.Values.Sum(l => l.Count)}");

        var (second, _) = await stack.AuditAsync(heal: false, TimeSpan.FromMinutes(10));
        SecondFindings.AddRange(Join(second));
        log($"a second audit (report only) finds {SecondFindings.Count} findings");
    }

    // ---------------------------------------------------------------- generation

    private void Generate(Stack stack)
    {
        var rng = new Random(seed);
        var now = TimeProvider.System.GetUtcNow();
        var start = now.AddMinutes(-20);
        for (var i = 0; i < people; i++)
        {
            var buys = rng.NextDouble() < BuyRate;
            var j = new Journey
            {
                Index = i,
                Key = $"{seed.ToString("x", CultureInfo.InvariantCulture)}x{i.ToString("d6", CultureInfo.InvariantCulture)}",
                Email = $"buyer{i.ToString(CultureInfo.InvariantCulture)}.s{seed.ToString(CultureInfo.InvariantCulture)}@leaks.example",
                Buys = buys,
                Refunds = buys && rng.NextDouble() < RefundRate,
                OptinAt = start.AddMilliseconds(i * 100),
            };
            if (j.Buys)
            {
                j.PaidEvent = stack.Stripe.Purchase(j.Key, j.Email, 4900, "course-pro", j.OptinAt.AddMinutes(3));
                ByOrder[j.OrderId] = j;
            }
            if (j.Refunds) j.RefundEvent = stack.Stripe.Refund(j.Key, j.Email, 4900, j.OptinAt.AddMinutes(6));
            foreach (var e in new[] { j.PaidEvent, j.RefundEvent }.OfType<string>())
            {
                if (rng.NextDouble() < MissedRate) j.Missed.Add(e);
                else if (rng.NextDouble() < DuplicateRate) j.Duplicated.Add(e);
            }
            // Reordered: the journey's messages arrive newest first (needs two that are sent).
            j.Reordered = rng.NextDouble() < ReorderRate && 1 + (j.PaidEvent is null ? 0 : 1) + (j.RefundEvent is null ? 0 : 1) - j.Missed.Count >= 2;
            if (rng.NextDouble() < DestinationFailureRate)
            {
                var kind = rng.NextDouble();
                j.FailWith = kind < 0.45 ? "500" : kind < 0.9 ? "429" : "timeout";
            }
            Journeys.Add(j);
            ByEmail[j.Email] = j;
        }
        // Silent drops: 2% of each group (at least one), so that every kind of write is dropped somewhere:
        // a lead's subscribe, a buyer's paid tag or enrollment, a refund's tag removal or unenrollment.
        foreach (var group in Journeys.GroupBy(j => j.Buys ? j.Refunds ? 2 : 1 : 0).OrderBy(g => g.Key))
        {
            foreach (var j in group.OrderBy(_ => rng.Next()).Take(Math.Max(1, (int)Math.Round(group.Count() * SilentDropRate))).OrderBy(j => j.Index))
            {
                j.DropOp = group.Key switch
                {
                    0 => "subscribe",
                    1 => rng.Next(2) == 0 ? "tag_add" : "enroll",
                    _ => rng.Next(2) == 0 ? "tag_remove" : "unenroll",
                };
            }
        }
        // Tampering: 1% of the people, among those who hold access (a tag or an enrollment to remove by hand).
        var holders = Journeys.Where(j => j.PaidActive).OrderBy(_ => rng.Next()).Take((int)Math.Round(people * TamperRate)).ToList();
        foreach (var j in holders) j.Tamper = rng.Next(2) == 0 ? "tag" : "enrollment";
    }

    // ---------------------------------------------------------------- driving

    private async Task DriveAsync(Stack stack, bool refunds)
    {
        var next = -1;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= Journeys.Count) return;
                await SendJourneyAsync(stack, Journeys[i], refunds);
            }
        });
        await Task.WhenAll(workers);
    }

    /// <summary>The journey's opt-in and purchase (and, when reordered, its refund, first), or only its refund (<paramref name="refunds"/>).</summary>
    private async Task SendJourneyAsync(Stack stack, Journey j, bool refunds)
    {
        if (refunds && (j.Reordered || j.RefundEvent is null)) return;
        var steps = new List<Func<Task<int>>>();
        if (!refunds) steps.Add(() => stack.PostEventAsync(OptIn(j), $"optin-{j.Key}", CancellationToken.None));
        var events = refunds ? [j.RefundEvent] : j.Reordered ? [j.PaidEvent, j.RefundEvent] : new[] { j.PaidEvent };
        foreach (var e in events.OfType<string>().Where(e => !j.Missed.Contains(e)))
        {
            steps.Add(() => stack.SendStripeAsync(e, CancellationToken.None));
            // Stripe retries a delivery it thinks failed, or sends twice: the same event id again.
            if (j.Duplicated.Contains(e)) steps.Add(() => stack.SendStripeAsync(e, CancellationToken.None));
        }
        if (j.Reordered) steps.Reverse();
        foreach (var step in steps)
        {
            var status = await step();
            lock (_gate)
            {
                WebhooksSent++;
                if (status is < 200 or >= 300) Refused++;
            }
        }
    }

    private static string OptIn(Journey j) => new JsonObject
    {
        ["type"] = "optin",
        ["occurred_at"] = j.OptinAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ["subject"] = new JsonObject { ["email"] = j.Email },
        ["consent"] = new JsonArray(new JsonObject { ["channel"] = "email", ["granted"] = true }),
        ["first_touch"] = new JsonObject { ["utm_source"] = "newsletter", ["utm_campaign"] = "launch" },
        ["attribution"] = new JsonObject { ["utm_source"] = "newsletter", ["utm_campaign"] = "launch" },
    }.ToJsonString();

    // ---------------------------------------------------------------- faults at the destinations

    private Fault? Fault(Stack stack, string destination, FaultRequest request)
    {
        if (!_faultsOn || request.Method == "GET") return null;
        var (op, email) = destination == "kit" ? KitOp(stack, request) : TeachableOp(stack, request);
        if (email is null || !ByEmail.TryGetValue(email, out var j)) return null;
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            if (_hangUntil.GetValueOrDefault(destination) > now || (j.FailWith == "timeout" && !j.TimedOut && _hangs.GetValueOrDefault(destination) < MaxHangsPerDestination))
            {
                if (_hangUntil.GetValueOrDefault(destination) <= now)
                {
                    // The API hangs for everything that arrives in the next 200 ms (one dispatcher round).
                    _hangs[destination] = _hangs.GetValueOrDefault(destination) + 1;
                    _hangUntil[destination] = now + (Stopwatch.Frequency / 5);
                }
                j.TimedOut = true;
                TimeoutRequests++;
                return new Fault(Delay: HangFor);
            }
            if (j.FailWith is "500" or "429" && j.FailedAt.Add(destination))
            {
                StatusFailures++;
                return j.FailWith == "500" ? new Fault(Status: 500) : new Fault(Status: 429, RetryAfter: "1");
            }
            if (j.DropOp == op && !j.Dropped)
            {
                j.Dropped = true;
                Drops++;
                return new Fault(Drop: true);
            }
        }
        return null;
    }

    private static (string Op, string? Email) KitOp(Stack stack, FaultRequest r)
    {
        var segments = r.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return (r.Method, segments) switch
        {
            ("POST", ["v4", "subscribers"]) => ("subscribe", BodyString(r.Body, "email_address")),
            ("POST", ["v4", "tags", _, "subscribers"]) => ("tag_add", BodyString(r.Body, "email_address")),
            ("DELETE", ["v4", "tags", _, "subscribers", var id]) => ("tag_remove", stack.Kit.EmailOf(long.Parse(id, CultureInfo.InvariantCulture))),
            (_, ["v4", "subscribers", var id, ..]) when long.TryParse(id, CultureInfo.InvariantCulture, out var sid) => ("update", stack.Kit.EmailOf(sid)),
            _ => ("other", BodyString(r.Body, "email_address")),
        };
    }

    private static (string Op, string? Email) TeachableOp(Stack stack, FaultRequest r) => (r.Method, r.Path) switch
    {
        ("POST", "/v1/users") => ("user_create", BodyString(r.Body, "email")),
        ("POST", "/v1/enroll") => ("enroll", UserEmail(stack, r.Body)),
        ("POST", "/v1/unenroll") => ("unenroll", UserEmail(stack, r.Body)),
        _ => ("other", null),
    };

    private static string? UserEmail(Stack stack, string body) =>
        Parse(body)?["user_id"] is JsonValue v && v.TryGetValue<int>(out var id) ? stack.Teachable.EmailOf(id) : null;

    private static string? BodyString(string body, string name) =>
        Parse(body)?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static JsonNode? Parse(string body)
    {
        try
        {
            return body.Length == 0 ? null : JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // ---------------------------------------------------------------- after the pipeline

    private void Tamper(Stack stack)
    {
        foreach (var j in Journeys.Where(j => j.Tamper is not null))
        {
            // Tampering removes what is there; a person who never got it is not tampered with.
            if (j.Tamper == "tag" && stack.Kit.TagsOf(j.Email).Contains(Stack.PaidTag)) stack.Kit.UntagByHand(j.Email, Stack.PaidTag);
            else if (j.Tamper == "enrollment" && stack.Teachable.ActiveCourses(j.Email).Contains(Stack.CourseId)) stack.Teachable.UnenrollByHand(j.Email, Stack.CourseId);
            else j.Tamper = null;
        }
    }

    private async Task LookUpPeopleAsync(Stack stack)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= Journeys.Count) return;
                Journeys[i].PersonId = await stack.PersonIdAsync(Journeys[i].Email);
            }
        }));
        foreach (var j in Journeys.Where(j => j.PersonId is not null)) ByPerson[j.PersonId!] = j;
    }

    private void Measure(Stack stack, Dictionary<Journey, List<string>> into)
    {
        foreach (var j in Journeys)
        {
            var leaks = new List<string>();
            if (stack.Kit.StateOf(j.Email) != "active") leaks.Add(Leaks.NotSubscribed);
            var tagged = stack.Kit.TagsOf(j.Email).Contains(Stack.PaidTag);
            var enrolled = stack.Teachable.ActiveCourses(j.Email).Contains(Stack.CourseId);
            if (j.PaidActive && !tagged) leaks.Add(Leaks.PaidTagMissing);
            if (j.PaidActive && !enrolled) leaks.Add(Leaks.PaidCourseMissing);
            if (j.Refunds && tagged) leaks.Add(Leaks.RefundTag);
            if (j.Refunds && enrolled) leaks.Add(Leaks.RefundCourse);
            if (leaks.Count > 0) into[j] = leaks;
        }
    }

    private IEnumerable<Finding> Join(JsonElement report)
    {
        foreach (var point in report.GetProperty("points").EnumerateArray())
        {
            var number = point.GetProperty("point").GetInt32();
            foreach (var f in point.GetProperty("findings").EnumerateArray())
            {
                Journey? j = null;
                if (Str(f, "order_id") is { } order) ByOrder.TryGetValue(order, out j);
                if (j is null && Str(f, "person_id") is { } person) ByPerson.TryGetValue(person, out j);
                var heal = f.GetProperty("heal");
                yield return new Finding(number, Str(f, "kind") ?? "?", Str(f, "destination"), Str(heal, "action") ?? "?", Str(heal, "status") ?? "?", j);
            }
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>
    /// Read-back requests each fake answered while the audit ran (its report's started_at to
    /// finished_at), by tool; the connectors' own look-ups by email are other paths and not counted.
    /// </summary>
    public static Dictionary<string, int> ReadBackRequests(Stack stack, JsonElement report)
    {
        var from = DateTimeOffset.Parse(report.GetProperty("started_at").GetString()!, CultureInfo.InvariantCulture);
        var to = report.GetProperty("finished_at").GetString() is { } f ? DateTimeOffset.Parse(f, CultureInfo.InvariantCulture) : DateTimeOffset.MaxValue;
        int Count(FakeApi api, params string[] prefixes) =>
            api.Requests.Count(r => r.At >= from && r.At <= to && prefixes.Any(p => r.Request.StartsWith(p, StringComparison.Ordinal)));
        return new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["stripe"] = Count(stack.Stripe.Api, "GET /v1/events"),
            ["kit"] = Count(stack.Kit.Api, "GET /v4/tags", "GET /v4/subscribers?status=all&per_page="),
            ["teachable"] = Count(stack.Teachable.Api, "GET /v1/courses/", "GET /v1/users?page="),
        };
    }
}
