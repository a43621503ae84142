using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

// DashboardBench seed DB_PATH            — adds what a live store has beside the projected log: 30 days of
//                                          hourly intake and delivery counters, 3 deliveries per person
//                                          (1 in 200 dead, with attempts), so every page reads real sizes.
// DashboardBench time BASE_URL TOKEN N   — signs in, then GETs every page N times after 2 warm-ups;
//                                          prints median, p90 and max per page and PASS/FAIL against 200 ms.
if (args is ["seed", var db]) return Seed(db);
if (args is ["time", var baseUrl, var token, var n]) return await TimeAsync(new Uri(baseUrl), token, int.Parse(n, CultureInfo.InvariantCulture));
Console.Error.WriteLine("usage: DashboardBench seed DB_PATH | DashboardBench time BASE_URL TOKEN N");
return 2;

static int Seed(string path)
{
    using var connection = new SqliteConnection($"Data Source={path}");
    connection.Open();
    using var tx = connection.BeginTransaction();
    var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
    var hour = now - now % 3_600_000;
    var random = new Random(7);
    using (var stat = connection.CreateCommand())
    {
        stat.Transaction = tx;
        stat.CommandText = "INSERT OR REPLACE INTO stats_hourly (hour_ms, metric, key, value) VALUES ($h, $m, $k, $v)";
        var (h, m, k, v) = (stat.Parameters.Add("$h", SqliteType.Integer), stat.Parameters.Add("$m", SqliteType.Text), stat.Parameters.Add("$k", SqliteType.Text), stat.Parameters.Add("$v", SqliteType.Integer));
        for (var i = 0; i < 30 * 24; i++)
        {
            foreach (var (metric, key, mean) in new[] { ("accepted", "stripe", 120), ("accepted", "kit", 900), ("accepted", "zoom", 60), ("duplicate", "stripe", 8),
                ("rejected", "stripe|bad_signature", 1), ("delivered", "kit-main", 800), ("delivered", "teachable-main", 90), ("failed_attempt", "kit-main", 12), ("dead", "teachable-main", 1) })
            {
                (h.Value, m.Value, k.Value, v.Value) = (hour - i * 3_600_000L, metric, key, random.Next(mean / 2, mean * 3 / 2 + 1));
                stat.ExecuteNonQuery();
            }
        }
    }
    var people = new List<string>();
    using (var read = connection.CreateCommand())
    {
        read.Transaction = tx;
        read.CommandText = "SELECT person_id FROM people WHERE merged_into IS NULL";
        using var r = read.ExecuteReader();
        while (r.Read()) people.Add(r.GetString(0));
    }
    using (var insert = connection.CreateCommand())
    {
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO deliveries (destination, person_id, kind, payload, trace_id, state, attempts, created_at, next_attempt_at, first_attempt_at, completed_at, last_error, last_status, dead_reason, request) "
            + "VALUES ($d, $p, 'state', '{}', $t, $s, $a, $c, $c, $c, $c, $e, $st, $dr, $rq)";
        var ps = new[] { "$d", "$p", "$t", "$s", "$a", "$c", "$e", "$st", "$dr", "$rq" }.Select(n => insert.Parameters.Add(n, SqliteType.Text)).ToArray();
        var count = 0;
        foreach (var person in people)
        {
            foreach (var destination in new[] { "kit-main", "teachable-main", "kit-main" })
            {
                var dead = ++count % 200 == 0;
                var at = now - random.NextInt64(0, 30L * 86_400_000);
                object?[] values = [destination, person, Guid.NewGuid().ToString("N"), dead ? "dead" : "succeeded", dead ? 8 : 1, at,
                    dead ? "teachable: 422 Unprocessable Entity" : null, dead ? 422 : 200, dead ? "permanent" : null, dead ? "POST /v1/users {…}" : null];
                for (var i = 0; i < ps.Length; i++) ps[i].Value = values[i] ?? DBNull.Value;
                insert.ExecuteNonQuery();
            }
        }
        Console.Error.WriteLine($"seeded 30 days of hourly counters and {count} deliveries for {people.Count} people");
    }
    tx.Commit();
    return 0;
}

static async Task<int> TimeAsync(Uri baseUrl, string token, int runs)
{
    var cookies = new CookieContainer();
    using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = baseUrl };
    var form = await http.GetStringAsync("/signin");
    var antiforgery = Regex.Match(form, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
    using (var signIn = await http.PostAsync("/signin", new FormUrlEncodedContent([new("__RequestVerificationToken", antiforgery), new("token", token), new("returnUrl", "/")])))
    {
        if (signIn.StatusCode != HttpStatusCode.Redirect || signIn.Headers.Location?.ToString() != "/") { Console.Error.WriteLine($"sign-in failed: {(int)signIn.StatusCode} {signIn.Headers.Location}"); return 1; }
    }
    var people = await http.GetStringAsync("/people");
    var personId = Regex.Match(people, "href=\"/people/(p_[0-9a-f]+)\"").Groups[1].Value;
    var email = Regex.Match(await http.GetStringAsync($"/people/{personId}"), @"<h1>([^< ]+@[^< ]+)").Groups[1].Value.Trim();
    string[] pages = ["/?period=24h", "/?period=7d", "/?period=30d", "/revenue", "/revenue?touch=last", "/people", $"/people?q={Uri.EscapeDataString(email)}",
        $"/people/{personId}", "/sources", "/destinations", "/audits", "/incidents", "/operations"];
    Console.WriteLine($"{"page",-36} {"median",8} {"p90",8} {"max",8}  (ms; {runs} timed GETs after 2 warm-ups, signed in)");
    var worst = 0.0;
    foreach (var page in pages)
    {
        var times = new List<double>();
        for (var i = 0; i < runs + 2; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.GetAsync(page);
            var body = await response.Content.ReadAsByteArrayAsync();
            clock.Stop();
            if ((int)response.StatusCode >= 400) { Console.Error.WriteLine($"{page}: {(int)response.StatusCode}"); return 1; }
            if (i >= 2) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double At(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
        var shown = page.Replace(email, "EMAIL", StringComparison.Ordinal);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{shown,-36} {At(0.5),8:0.0} {At(0.9),8:0.0} {times[^1],8:0.0}"));
        worst = Math.Max(worst, times[^1]);
    }
    Console.WriteLine(worst < 200 ? $"PASS  every page under 200 ms (slowest single answer {worst:0.0} ms)" : $"FAIL  a page took {worst:0.0} ms (target: every page under 200 ms)");
    return 0;
}
