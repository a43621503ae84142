using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Junction.Storage;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Support;
using Npgsql;

namespace Junction.Tests.Executable;

/// <summary>
/// Issue 16, "a cluster under faults": three real `junction serve` processes on one PostgreSQL of the
/// test's own, load posted round-robin to all three (form opt-ins, API orders and refunds, Standard
/// Webhooks orders), Kit and a webhook receiver faked at the HTTP boundary with injected faults (500s,
/// 429 storms with Retry-After, answers slower than the client's timeout, connections reset mid-body,
/// a destination down for a while). During the load one node is killed with SIGKILL and started
/// again, PostgreSQL is stopped and started under the running nodes, and Kit is paused and resumed.
/// Then every acknowledged event is in the log once, the state equals a single-node rebuild, the
/// fakes hold the desired state, duplicates are counted and share one idempotency key, timers,
/// audits and alerts fired once across the cluster, and the webhook's rate limit held for the cluster.
/// <c>bench/chaos.sh</c> runs the same scenario longer (JUNCTION_CHAOS_* variables) and prints the counts.
/// </summary>
public sealed class ClusterChaosTests
{
    private const string Admin = "chaos-admin-token-0123456789abcdef";
    private const string Key = "chaos-api-key-0123456789abcdef";
    private const string StdSecret = JunctionServer.StandardSecret;
    private const double HookRate = 10;

    /// <summary>How long and how hard: CI's bounded defaults, or bench/chaos.sh's through the environment.</summary>
    /// <remarks>
    /// The load is paced (<c>JourneysPerSecond</c>): unpaced, it went as fast as the nodes answered,
    /// so a faster intake made more orders than the webhook's 10/s could drain within the
    /// convergence bound. 15 journeys a second offer the webhook ~12.5 orders and refunds a second,
    /// still over its limit, so the limit is exercised and a backlog builds during its faults.
    /// </remarks>
    private sealed record Plan(TimeSpan Load, int Kills, int DatabaseRestarts, TimeSpan DestinationDown, int Workers, double JourneysPerSecond)
    {
        public static Plan FromEnvironment() => new(
            TimeSpan.FromSeconds(Number("JUNCTION_CHAOS_LOAD_SECONDS", 40)),
            (int)Number("JUNCTION_CHAOS_KILLS", 1),
            (int)Number("JUNCTION_CHAOS_DB_RESTARTS", 2),
            TimeSpan.FromSeconds(Number("JUNCTION_CHAOS_DOWN_SECONDS", 10)),
            (int)Number("JUNCTION_CHAOS_WORKERS", 3),
            Number("JUNCTION_CHAOS_JOURNEYS_PER_SECOND", 15));

        private static double Number(string name, double fallback) =>
            double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : fallback;
    }

    private sealed class Counts
    {
        public int Events;
        public int Refused;
        public int Kills;
        public int NodeRestarts;
        public int DatabaseRestarts;
        public int FaultsInjected;
        public int Duplicates;
        public int Lost;
        public int Spread;
    }

    /// <summary>One person's journey as the load generator drove it: the independent oracle for the fakes.</summary>
    private sealed class Journey(string email)
    {
        public string Email { get; } = email;
        public bool Paid { get; set; }
        public bool Refunded { get; set; }
    }

    private static string Yaml(string storage, Uri kit, Uri hook, Uri pager) => $$"""
        storage: "{{storage}}"
        admin: { tokens: ["{{Admin}}"] }
        api_keys: ["{{Key}}"]
        sources:
          landing: { provider: form }
          app: { provider: api }
          std: { provider: standard-webhooks, secrets: ["{{StdSecret}}"] }
          stripe-main: { provider: stripe, secrets: ["whsec_chaos_stripe_secret"] }
        tags: ["paid:course-pro", customer, nudged]
        products:
          course-pro:
            match: [{ source: app, sku: course-pro }, { source: std, sku: course-pro }]
            tags_while_active: ["paid:course-pro", customer]
        ownership:
          money: [payments, app, std]
        lifecycle:
          - { name: nudge, after: optin, delay: 15s, add_tag: nudged }
        destinations:
          kit-main:
            type: kit
            base_url: "{{kit}}"
            credentials: { api_key: "{{FakeKit.ApiKey}}" }
            rate_limit: 30
            tags: { "paid:course-pro": "Paid: Course Pro", customer: "Customer", nudged: "Nudged" }
          hook:
            type: webhook
            base_url: "{{hook}}"
            credentials: { secret: "{{StdSecret}}" }
            rate_limit: {{HookRate.ToString(CultureInfo.InvariantCulture)}}
            events: [order.paid, order.refunded]
        audits:
          heal: false
          schedule: { payments: 5s, enrollments: "off", tags: "off" }
        alerts:
          evaluate_every: 1s
          source_silent: { enabled: false }
        notifiers:
          pager: { type: webhook, url: "{{pager}}", secret: "{{StdSecret}}" }
        """;

    [Fact]
    public async Task ThreeNodes_UnderKillsDatabaseRestartsAndDestinationFaults_LoseNothing_Converge_AndHoldTheClusterRateLimit()
    {
        var plan = Plan.FromEnvironment();
        var counts = new Counts();
        var clock = Stopwatch.StartNew();
        await using var pg = await OwnPostgres.StartAsync();
        var storage = "postgres:" + pg.ConnectionString;
        await using var kit = await FakeKit.StartAsync();
        kit.AddTag("Paid: Course Pro");
        kit.AddTag("Customer");
        kit.AddTag("Nudged");
        await using var hook = await FakeWebhookReceiver.StartAsync(StdSecret);
        await using var pager = await FakeWebhookReceiver.StartAsync(StdSecret);

        // A failing smoke run: the alert evaluator on every node sees it; one incident, one notification.
        await using (var store = StoreFactory.Open(storage, TimeProvider.System))
        {
            await store.MigrateAsync(CancellationToken.None);
            var relational = (RelationalStore)store;
            var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            await relational.InsertSmokeRunAsync("smk_chaos", "test", "synthetic", "stripe-main", now, CancellationToken.None);
            await relational.UpdateSmokeRunAsync("smk_chaos", "[]", null, "failed", "purchase", now, CancellationToken.None);
        }

        // Faults at the HTTP boundary, by phase of the run.
        var faults = new FaultPlan(plan.DestinationDown);
        kit.Api.Faults = r => faults.Next(r, ref counts.FaultsInjected, kitSide: true);
        hook.Api.Faults = r => faults.Next(r, ref counts.FaultsInjected, kitSide: false);

        var dir = TestStorage.NewTempDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), Yaml(storage, kit.BaseUrl, hook.Url, pager.Url));
        var ports = Enumerable.Range(0, 3).Select(_ => JunctionProcess.FreePort()).ToArray();
        var nodes = new JunctionProcess?[3];
        for (var i = 0; i < 3; i++) nodes[i] = StartNode(dir, ports[i]);
        try
        {
            for (var i = 0; i < 3; i++) await nodes[i]!.WaitHealthyAsync(Base(ports[i]));

            var journeys = new ConcurrentBag<Journey>();
            var acknowledged = new ConcurrentDictionary<(string Source, string Key), string>();
            using var stopLoad = new CancellationTokenSource();
            var next = 0;
            var paced = Stopwatch.StartNew();
            var loadTasks = Enumerable.Range(0, plan.Workers).Select(w => Task.Run(async () =>
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                while (!stopLoad.IsCancellationRequested)
                {
                    var n = Interlocked.Increment(ref next);
                    var due = TimeSpan.FromSeconds(n / plan.JourneysPerSecond) - paced.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(due, stopLoad.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            break;
                        }
                    }
                    var journey = new Journey($"chaos{n}@example.com");
                    journeys.Add(journey);
                    await PostUntilAcknowledgedAsync(http, ports, Form(journey, n), acknowledged, counts);
                    journey.Paid = n % 3 != 0;
                    if (journey.Paid) await PostUntilAcknowledgedAsync(http, ports, n % 2 == 0 ? Api(Paid(journey, n), n) : Std(Paid(journey, n), n), acknowledged, counts);
                    if (journey.Paid && n % 4 == 0)
                    {
                        await PostUntilAcknowledgedAsync(http, ports, Api(Refund(journey, n), -n), acknowledged, counts);
                        journey.Refunded = true;
                    }
                }
            })).ToList();

            // The chaos, spread over the load.
            var readyzDown = new List<string>();
            var steps = plan.Kills + plan.DatabaseRestarts + 1;
            var slot = plan.Load / (steps + 1);
            faults.Start();
            for (var k = 0; k < plan.Kills; k++)
            {
                await Task.Delay(slot);
                var victim = k % 3;
                nodes[victim]!.KillHard();
                nodes[victim]!.Dispose();
                counts.Kills++;
                await Task.Delay(TimeSpan.FromSeconds(3));
                nodes[victim] = StartNode(dir, ports[victim]);
                await nodes[victim]!.WaitHealthyAsync(Base(ports[victim]));
                counts.NodeRestarts++;
            }
            for (var r = 0; r < plan.DatabaseRestarts; r++)
            {
                await Task.Delay(slot);
                if (r % 2 == 0)
                {
                    // Stopped for a few seconds: every node must say not-ready meanwhile, then recover by itself.
                    await pg.StopAsync();
                    for (var i = 0; i < 3; i++) readyzDown.Add(await WaitReadyzAsync(ports[i], HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(20)));
                    await Task.Delay(TimeSpan.FromSeconds(2));
                    await pg.StartAgainAsync();
                }
                else
                {
                    await pg.RestartAsync();
                }
                counts.DatabaseRestarts++;
                for (var i = 0; i < 3; i++) Assert.Equal("OK", await WaitReadyzAsync(ports[i], HttpStatusCode.OK, TimeSpan.FromSeconds(30)));
            }
            {
                await Task.Delay(slot / 2);
                using var admin = AdminClient(ports[1]);
                (await admin.PostAsync("/v1/destinations/kit-main/pause", JsonContent("""{"reason":"chaos"}"""))).EnsureSuccessStatusCode();
                await Task.Delay(TimeSpan.FromSeconds(3));
                (await admin.PostAsync("/v1/destinations/kit-main/resume", JsonContent("{}"))).EnsureSuccessStatusCode();
            }
            var left = plan.Load - clock.Elapsed;
            if (left > TimeSpan.Zero) await Task.Delay(left);
            await stopLoad.CancelAsync();
            await Task.WhenAll(loadTasks);
            faults.Stop();
            Assert.All(readyzDown, s => Assert.Equal("ServiceUnavailable", s));
            Assert.All(nodes, n => Assert.False(n!.HasExited, "a node stopped by itself"));

            // Drain: everything projected, every timer fired, nothing open at any destination.
            var lastOptIn = TimeProvider.System.GetUtcNow();
            // Long enough for the webhook's limit to drain what the load offered it (~0.83 a journey), on top of the faults.
            var drain = plan.Load.TotalSeconds * plan.JourneysPerSecond * 0.9 / HookRate;
            await WaitConvergedAsync(pg.ConnectionString, lastOptIn + TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(150 + drain), nodes);

            await using var db = new NpgsqlConnection(pg.ConnectionString);
            await db.OpenAsync();

            // 1. Every acknowledged event is in the log exactly once, under the id it was acknowledged with.
            var logged = new Dictionary<(string, string), List<string>>();
            await using (var cmd = new NpgsqlCommand("SELECT source, dedup_key, id FROM raw_events", db))
            await using (var r = await cmd.ExecuteReaderAsync())
            {
                while (await r.ReadAsync())
                {
                    var key = (r.GetString(0), r.GetString(1));
                    if (!logged.TryGetValue(key, out var ids)) logged[key] = ids = [];
                    ids.Add(r.GetString(2));
                }
            }
            foreach (var ((source, dedup), id) in acknowledged)
            {
                if (!logged.TryGetValue((source, dedup), out var ids) || ids.Count != 1 || ids[0] != id) counts.Lost++;
            }
            counts.Events = acknowledged.Count;
            Assert.Equal(0, counts.Lost);
            Assert.True(counts.Events > 50, $"only {counts.Events} events acknowledged");

            // 2. Nothing dead; 3. Kit holds the desired state for every person the load drove.
            Assert.Equal(0L, await ScalarAsync(db, "SELECT count(*) FROM deliveries WHERE state = 'dead'"));
            var wrong = new List<string>();
            foreach (var j in journeys.Where(j => acknowledgedFormOf(j)))
            {
                var expected = new List<string> { "Nudged" };
                if (j.Paid && !j.Refunded) expected.AddRange(["Customer", "Paid: Course Pro"]);
                var actual = kit.TagsOf(j.Email).Order(StringComparer.Ordinal).ToList();
                if (!actual.SequenceEqual(expected.Order(StringComparer.Ordinal))) wrong.Add($"{j.Email}: [{string.Join(", ", actual)}] != [{string.Join(", ", expected.Order(StringComparer.Ordinal))}]");
            }
            Assert.True(wrong.Count == 0, $"{wrong.Count} people differ at Kit:\n{string.Join('\n', wrong.Take(20))}");
            bool acknowledgedFormOf(Journey j) => acknowledged.ContainsKey(("landing", "submission:" + j.Email));

            // 4. Every order event reached the webhook; redeliveries (at-least-once) carry the same webhook-id, and are counted.
            var requests = hook.Api.Requests.Where(q => q.Request.StartsWith("POST ", StringComparison.Ordinal)).ToList();
            var keysByEvent = requests.GroupBy(q => JsonDocument.Parse(q.Body).RootElement.GetProperty("data").GetProperty("id").GetString()!)
                .ToDictionary(g => g.Key, g => g.Select(q => q.Headers["webhook-id"]).Distinct(StringComparer.Ordinal).ToList());
            Assert.All(keysByEvent, e => Assert.True(e.Value.Count == 1, $"event {e.Key} was sent under {e.Value.Count} idempotency keys"));
            var orderEvents = await ScalarAsync(db, "SELECT count(*) FROM canonical_events WHERE type IN ('order.paid', 'order.refunded')");
            Assert.Equal(orderEvents, hook.Processed.Count);
            Assert.Equal(orderEvents, (long)keysByEvent.Count);
            counts.Duplicates = requests.GroupBy(q => q.Headers["webhook-id"]).Sum(g => g.Count() - 1);
            Assert.Equal(0, hook.SignatureFailures);

            // 5. Timers fired once each; the scheduled audit ran once per cadence; one incident, notified once.
            Assert.Equal(0L, await ScalarAsync(db, "SELECT count(*) FROM (SELECT 1 FROM state_changes WHERE cause = 'timer' GROUP BY person_id, cause_id HAVING count(*) > 1) x"));
            Assert.Equal(await ScalarAsync(db, "SELECT count(*) FROM timers WHERE name = 'nudge'"), await ScalarAsync(db, "SELECT count(*) FROM timers WHERE name = 'nudge' AND fired_at IS NOT NULL"));
            var runs = new List<long>();
            await using (var cmd = new NpgsqlCommand("SELECT started_at FROM audits WHERE trigger_name = 'schedule:payments' ORDER BY started_at", db))
            await using (var r = await cmd.ExecuteReaderAsync())
            {
                while (await r.ReadAsync()) runs.Add(r.GetInt64(0));
            }
            Assert.True(runs.Count >= 3, $"only {runs.Count} scheduled audits ran");
            for (var i = 1; i < runs.Count; i++) Assert.True(runs[i] - runs[i - 1] >= 5000 - 50, $"scheduled audits {runs[i] - runs[i - 1]} ms apart: a doubled run");
            // The faults open incidents of their own (a destination failing); each problem is one incident, announced once.
            Assert.Equal(1L, await ScalarAsync(db, "SELECT count(*) FROM incidents WHERE rule = 'smoke_failing'"));
            var incidents = await ScalarAsync(db, "SELECT count(*) FROM incidents");
            var opened = pager.Api.Requests.Where(q => q.Request.StartsWith("POST ", StringComparison.Ordinal))
                .Select(q => (Key: q.Headers["webhook-id"], Doc: JsonDocument.Parse(q.Body).RootElement))
                .Where(m => m.Doc.GetProperty("type").GetString() == "incident.opened")
                .GroupBy(m => m.Doc.GetProperty("data").GetProperty("id").GetString()!)
                .ToDictionary(g => g.Key, g => g.Select(m => m.Key).Distinct(StringComparer.Ordinal).Count());
            Assert.Equal(incidents, (long)opened.Count);
            Assert.All(opened, o => Assert.True(o.Value == 1, $"incident {o.Key} announced under {o.Value} webhook-ids: notified twice"));
            Assert.Equal(0, pager.SignatureFailures);

            // 6. The webhook's rate limit held for the cluster: in any 5 s at the fake, at most burst + rate·5 (10% for transit jitter).
            var times = requests.Select(q => q.At).Order().ToList();
            var window = TimeSpan.FromSeconds(5);
            var most = 0;
            for (int i = 0, j = 0; i < times.Count; i++)
            {
                while (times[i] - times[j] >= window) j++;
                most = Math.Max(most, i - j + 1);
            }
            var bound = (HookRate + HookRate * window.TotalSeconds) * 1.1;
            Assert.True(most <= bound, $"{most} requests within 5 s at the webhook; the cluster-wide limit allows {bound}");

            Report(plan, counts, clock.Elapsed, most);

            // 7. Every person's state equals a single-node rebuild of the same log.
            foreach (var n in nodes) n!.KillHard();
            var (code, output) = await JunctionProcess.RunAsync(dir, null, "rebuild");
            Assert.True(code == 0, output);
            Assert.Contains("identical: yes", output, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var n in nodes) n?.Dispose();
        }
    }

    private static void Report(Plan plan, Counts counts, TimeSpan elapsed, int mostIn5s)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"chaos: {elapsed.TotalSeconds:0}s (load {plan.Load.TotalSeconds:0}s) events={counts.Events} refused_then_retried={counts.Refused} "
            + $"kills={counts.Kills} node_restarts={counts.NodeRestarts} db_restarts={counts.DatabaseRestarts} faults_injected={counts.FaultsInjected} "
            + $"duplicates_observed={counts.Duplicates} webhook_peak_5s={mostIn5s} lost={counts.Lost}");
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        if (Environment.GetEnvironmentVariable("JUNCTION_CHAOS_REPORT") is { Length: > 0 } path) File.WriteAllText(path, text + "\n");
    }

    /// <summary>The faults each phase injects, chosen per request; counted as injected.</summary>
    private sealed class FaultPlan(TimeSpan down)
    {
        private readonly Stopwatch _since = new();
        private volatile bool _on;

        public void Start()
        {
            _since.Start();
            _on = true;
        }

        public void Stop() => _on = false;

        public Fault? Next(FaultRequest request, ref int injected, bool kitSide)
        {
            if (!_on) return null;
            var t = _since.Elapsed.TotalSeconds;
            var roll = Random.Shared.NextDouble();
            Fault? fault = null;
            // Kit: down for a while early on, a 429 storm later. The webhook: a 429 storm early, then down.
            var downFrom = kitSide ? 4 : 20;
            var stormFrom = kitSide ? 20 + down.TotalSeconds : 4;
            if (t >= downFrom && t < downFrom + down.TotalSeconds) fault = new Fault(Down: true);
            else if (t >= stormFrom && t < stormFrom + 3) fault = new Fault(Status: 429, RetryAfter: "2");
            else if (roll < 0.05) fault = new Fault(Status: 500);
            else if (roll < 0.08) fault = new Fault(Reset: true);
            else if (roll < 0.085) fault = new Fault(Delay: TimeSpan.FromSeconds(31));
            if (fault is not null) Interlocked.Increment(ref injected);
            return fault;
        }
    }

    private static async Task PostUntilAcknowledgedAsync(HttpClient http, int[] ports, Func<HttpRequestMessage> request,
        ConcurrentDictionary<(string, string), string> acknowledged, Counts counts)
    {
        // Round-robin over the nodes; refused (a node down, the database away) → the same event again, elsewhere.
        for (var attempt = 0; attempt < 400; attempt++)
        {
            var port = ports[Interlocked.Increment(ref counts.Spread) % ports.Length];
            using var message = request();
            message.RequestUri = new Uri(Base(port), message.RequestUri!.OriginalString);
            var source = message.Headers.TryGetValues("X-Chaos-Source", out var s) ? s.First() : "";
            var key = message.Headers.TryGetValues("X-Chaos-Key", out var k) ? k.First() : "";
            try
            {
                using var response = await http.SendAsync(message);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    var root = body.RootElement;
                    var id = root.TryGetProperty("raw_id", out var rawId) ? rawId.GetString()! : root.GetProperty("id").GetString()!;
                    var first = acknowledged.GetOrAdd((source, key), id);
                    Assert.Equal(first, id);
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            Interlocked.Increment(ref counts.Refused);
            await Task.Delay(100);
        }
        using var never = request();
        Assert.Fail($"{never.Method} {never.RequestUri} was never acknowledged");
    }

    private static Func<HttpRequestMessage> Form(Journey j, int n) => () =>
    {
        var m = new HttpRequestMessage(HttpMethod.Post, "/v1/forms/landing")
        {
            Content = JsonContent($$"""{"email":"{{j.Email}}","first_name":"Chaos{{n}}","submission_id":"{{j.Email}}"}"""),
        };
        m.Headers.Add("X-Chaos-Source", "landing");
        m.Headers.Add("X-Chaos-Key", "submission:" + j.Email);
        return m;
    };

    private static string Paid(Journey j, int n) =>
        $$$"""{"type":"order.paid","occurred_at":"{{{Now()}}}","subject":{"email":"{{{j.Email}}}"},"order":{"order_id":"ord_{{{n}}}","amount":4900,"currency":"usd","items":[{"sku":"course-pro","quantity":1,"amount":4900}]}}""";

    private static string Refund(Journey j, int n) =>
        $$$"""{"type":"order.refunded","occurred_at":"{{{Now()}}}","subject":{"email":"{{{j.Email}}}"},"order":{"order_id":"ord_{{{n}}}","refund_amount":4900,"fully_refunded":true,"currency":"usd"}}""";

    private static string Now() => TimeProvider.System.GetUtcNow().AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static Func<HttpRequestMessage> Api(string json, int n)
    {
        var idempotency = $"api-{n}";
        return () =>
        {
            var m = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = JsonContent(json) };
            m.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            m.Headers.Add("Idempotency-Key", idempotency);
            m.Headers.Add("X-Chaos-Source", "app");
            m.Headers.Add("X-Chaos-Key", "idempotency:" + idempotency);
            return m;
        };
    }

    private static Func<HttpRequestMessage> Std(string json, int n)
    {
        var id = $"msg_chaos_{n}";
        var body = Encoding.UTF8.GetBytes(json);
        return () =>
        {
            var ts = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
            var m = new HttpRequestMessage(HttpMethod.Post, "/v1/hooks/std") { Content = new ByteArrayContent(body) };
            m.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            m.Headers.Add("webhook-id", id);
            m.Headers.Add("webhook-timestamp", ts.ToString(CultureInfo.InvariantCulture));
            m.Headers.Add("webhook-signature", Sign.StandardWebhooks(StdSecret, id, ts, body));
            m.Headers.Add("X-Chaos-Source", "std");
            m.Headers.Add("X-Chaos-Key", id);
            return m;
        };
    }

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");

    private static Uri Base(int port) => new($"http://127.0.0.1:{port}");

    private static JunctionProcess StartNode(string dir, int port) =>
        JunctionProcess.Start(dir, null, "serve", "--urls", $"http://127.0.0.1:{port}");

    private static HttpClient AdminClient(int port)
    {
        var c = new HttpClient { BaseAddress = Base(port) };
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
        return c;
    }

    /// <summary>Polls /readyz until it answers <paramref name="want"/>; returns what it last answered.</summary>
    private static async Task<string> WaitReadyzAsync(int port, HttpStatusCode want, TimeSpan within)
    {
        using var http = new HttpClient { BaseAddress = Base(port), Timeout = TimeSpan.FromSeconds(5) };
        var last = "none";
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            try
            {
                using var r = await http.GetAsync("/readyz");
                last = r.StatusCode.ToString();
                if (r.StatusCode == want) return want == HttpStatusCode.OK ? "OK" : last;
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
            }
            await Task.Delay(200);
        }
        return last;
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection db, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, db);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task WaitConvergedAsync(string connectionString, DateTimeOffset timersDue, TimeSpan within, JunctionProcess?[] nodes)
    {
        var clock = Stopwatch.StartNew();
        var state = "";
        while (clock.Elapsed < within)
        {
            try
            {
                await using var db = new NpgsqlConnection(connectionString);
                await db.OpenAsync();
                var open = await ScalarAsync(db, "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'in_flight', 'held')");
                var normalizeBehind = await ScalarAsync(db, "SELECT COALESCE((SELECT max(seq) FROM raw_events), 0) - COALESCE((SELECT position FROM cursors WHERE name = 'normalize'), 0)");
                var projectBehind = await ScalarAsync(db, "SELECT COALESCE((SELECT max(seq) FROM canonical_events), 0) - COALESCE((SELECT position FROM cursors WHERE name = 'project'), 0)");
                var timers = await ScalarAsync(db, "SELECT count(*) FROM timers WHERE fired_at IS NULL");
                var byState = new List<string>();
                await using (var cmd = new NpgsqlCommand("SELECT destination, state, count(*) FROM deliveries WHERE state IN ('pending', 'in_flight', 'held') GROUP BY 1, 2", db))
                await using (var r = await cmd.ExecuteReaderAsync())
                {
                    while (await r.ReadAsync()) byState.Add($"{r.GetString(0)}/{r.GetString(1)}={r.GetInt64(2)}");
                }
                state = $"open deliveries {open} ({string.Join(", ", byState)}), normalize behind {normalizeBehind}, project behind {projectBehind}, timers unfired {timers}";
                if (open == 0 && normalizeBehind <= 0 && projectBehind == 0 && timers == 0 && TimeProvider.System.GetUtcNow() > timersDue) return;
            }
            catch (NpgsqlException)
            {
            }
            await Task.Delay(500);
        }
        Assert.Fail($"not converged after {within}: {state}\n{string.Join('\n', nodes.SelectMany(n => n?.Output.TakeLast(15) ?? []))}");
    }
}
