using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Junction.Tests.Fuzz;

/// <summary>What a fuzz run saw: every body's answer, what normalization made of the stored ones, and the process afterwards.</summary>
internal sealed class FuzzReport
{
    public long Cases;
    public long Accepted;
    public long Duplicates;
    public long Store503;
    public long TransportErrors;
    public TimeSpan Sending;
    public TimeSpan Draining;
    public readonly ConcurrentDictionary<string, long> ClientErrors = new(StringComparer.Ordinal);
    public readonly ConcurrentDictionary<int, long> UnexpectedServerErrors = new();
    public readonly ConcurrentDictionary<string, long> AcceptedBySource = new(StringComparer.Ordinal);
    public readonly ConcurrentDictionary<Mutation, long> AcceptedByMutation = new();
    public readonly ConcurrentQueue<string> Examples = new();
    public long RawEvents;
    public long WithoutOutcome;
    public Dictionary<string, long> Outcomes = new(StringComparer.Ordinal);
    public Dictionary<string, long> QuarantineReasons = new(StringComparer.Ordinal);
    public long MapperExceptions;
    public Dictionary<string, long> ExceptionReasons = new(StringComparer.Ordinal);
    public List<string> ErrorLogLines = [];
    public bool AliveAfter;
    public HttpStatusCode? HealthAfter;
    public long PeakRssKb;
    public long RssKb;

    public long UnexpectedServerErrorCount => UnexpectedServerErrors.Values.Sum();

    public override string ToString()
    {
        var s = new StringBuilder();
        var rate = Cases / Math.Max(Sending.TotalSeconds, 0.001);
        s.AppendLine(CultureInfo.InvariantCulture, $"fuzz: {Cases} bodies in {Sending.TotalSeconds:0.0} s ({rate:0} bodies/s); normalization drained {Draining.TotalSeconds:0.0} s later");
        s.AppendLine(CultureInfo.InvariantCulture, $"  2xx accepted      {Accepted} (new {Accepted - Duplicates}, duplicates {Duplicates})");
        foreach (var (k, v) in ClientErrors.OrderByDescending(kv => kv.Value)) s.AppendLine(CultureInfo.InvariantCulture, $"  4xx {k,-28} {v}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  503 store         {Store503}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  5xx unexpected    {UnexpectedServerErrorCount}{string.Concat(UnexpectedServerErrors.Select(kv => $" [{kv.Key}: {kv.Value}]"))}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  transport errors  {TransportErrors}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  crashes           {(AliveAfter ? 0 : 1)} (process alive after the run: {AliveAfter}; /healthz {(HealthAfter is { } h ? ((int)h).ToString(CultureInfo.InvariantCulture) : "no answer")})");
        s.AppendLine(CultureInfo.InvariantCulture, $"  stored raw events {RawEvents}; without a normalization outcome {WithoutOutcome}");
        foreach (var (k, v) in Outcomes.OrderByDescending(kv => kv.Value)) s.AppendLine(CultureInfo.InvariantCulture, $"    {k,-16} {v}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  mapper exceptions {MapperExceptions}; error log lines {ErrorLogLines.Count}");
        foreach (var (k, v) in ExceptionReasons.OrderByDescending(kv => kv.Value)) s.AppendLine(CultureInfo.InvariantCulture, $"    exception {v,6}  {k}");
        s.AppendLine("  quarantined by reason (digits as #):");
        foreach (var (k, v) in QuarantineReasons.OrderByDescending(kv => kv.Value).Take(40)) s.AppendLine(CultureInfo.InvariantCulture, $"    {v,8}  {k}");
        if (QuarantineReasons.Count > 40) s.AppendLine(CultureInfo.InvariantCulture, $"    … {QuarantineReasons.Count - 40} more reasons");
        s.AppendLine("  accepted by source: " + string.Join(", ", AcceptedBySource.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
        s.AppendLine("  accepted by mutation: " + string.Join(", ", AcceptedByMutation.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}")));
        s.AppendLine(CultureInfo.InvariantCulture, $"  junction RSS {RssKb / 1024} MB at the end, peak {PeakRssKb / 1024} MB");
        foreach (var e in Examples.Take(20)) s.AppendLine("  example: " + e);
        foreach (var e in ErrorLogLines.Take(20)) s.AppendLine("  log: " + e);
        return s.ToString();
    }
}

/// <summary>
/// Posts mutated, validly signed provider bodies over a real socket to the real <c>junction serve</c>
/// (one source per provider, SQLite), then waits for normalization to give every stored event an
/// outcome. Used by <see cref="FuzzTests"/> (tens of thousands of cases) and <c>bench/fuzz.sh</c> (a million).
/// </summary>
internal static partial class FuzzRun
{
    private const string Token = "fuzz-admin-token-0123456789";

    public static async Task<FuzzReport> RunAsync(long cases, int seed, int concurrency, TimeSpan drainLimit, Action<string>? progress = null)
    {
        var dir = TestStorage.NewTempDirectory();
        try
        {
            return await RunAsync(dir, cases, seed, concurrency, drainLimit, progress);
        }
        finally
        {
            // A million bodies leave gigabytes of database behind; the report is all that is kept.
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<FuzzReport> RunAsync(string dir, long cases, int seed, int concurrency, TimeSpan drainLimit, Action<string>? progress)
    {
        await using var fakes = await StartFakesAsync();
        var db = Path.Combine(dir, "junction.db");
        var config = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(config, $"""
            storage: "sqlite:{db}"
            admin:
              tokens: ["{Token}"]
            {FuzzCorpus.SourcesYaml(fakes.Url)}
            """);
        var port = JunctionProcess.FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        using var junction = JunctionProcess.Start(dir, null, "serve", "--config", config, "--urls", baseAddress.ToString().TrimEnd('/'));
        await junction.WaitHealthyAsync(baseAddress);

        var report = new FuzzReport { Cases = cases };
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        long next = -1;
        var sending = Stopwatch.StartNew();
        var lastProgress = Stopwatch.StartNew();

        async Task Worker()
        {
            long i;
            while ((i = Interlocked.Increment(ref next)) < cases)
            {
                var fuzz = Mutator.Make(seed, i);
                await SendAsync(client, fuzz, report);
                if (progress is not null && i % 10_000 == 0 && lastProgress.Elapsed > TimeSpan.FromSeconds(10))
                {
                    lastProgress.Restart();
                    progress($"{i} bodies sent, {sending.Elapsed.TotalSeconds:0} s, {i / Math.Max(sending.Elapsed.TotalSeconds, 0.001):0}/s, RSS {Rss(junction.Id).Current / 1024} MB");
                }
                if (junction.HasExited) return;
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker)));
        report.Sending = sending.Elapsed;

        var draining = Stopwatch.StartNew();
        await DrainAsync(db, report, drainLimit, junction);
        report.Draining = draining.Elapsed;

        report.AliveAfter = !junction.HasExited;
        if (report.AliveAfter)
        {
            try
            {
                using var health = await client.GetAsync("/healthz");
                report.HealthAfter = health.StatusCode;
            }
            catch (HttpRequestException)
            {
            }
            (report.RssKb, report.PeakRssKb) = Rss(junction.Id);
        }
        report.ErrorLogLines = [.. junction.Output.Where(l => l.Contains("fail: ", StringComparison.Ordinal) || l.Contains("crit: ", StringComparison.Ordinal)
            || l.Contains("Unhandled exception", StringComparison.Ordinal))];
        if (report.ErrorLogLines.Count > 0 || !report.AliveAfter) report.ErrorLogLines.AddRange(junction.Output.TakeLast(30));
        return report;
    }

    private static async Task SendAsync(HttpClient client, FuzzCase fuzz, FuzzReport report)
    {
        var source = fuzz.Fixture.Source;
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var signed = source.Sign(source, fuzz.Body, now, "fuzz_" + fuzz.Index.ToString(CultureInfo.InvariantCulture));
        var query = string.Join('&', new[] { signed.Query, fuzz.Fixture.Query }.Where(q => q.Length > 0));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/hooks/{source.Id}{(query.Length > 0 ? "?" + query : "")}")
        {
            Content = new ByteArrayContent(fuzz.Body),
        };
        if (fuzz.ContentType is { } contentType) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        foreach (var (name, value) in signed.Headers.Concat(fuzz.Fixture.Headers ?? [])) request.Headers.TryAddWithoutValidation(name, value);
        try
        {
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            if (status == 200)
            {
                Interlocked.Increment(ref report.Accepted);
                report.AcceptedBySource.AddOrUpdate(source.Id, 1, (_, v) => v + 1);
                foreach (var m in fuzz.Mutations.DefaultIfEmpty(Mutation.None).Distinct()) report.AcceptedByMutation.AddOrUpdate(m, 1, (_, v) => v + 1);
                if (text.Contains("\"duplicate\":true", StringComparison.Ordinal)) Interlocked.Increment(ref report.Duplicates);
            }
            else if (status is >= 400 and < 500)
            {
                report.ClientErrors.AddOrUpdate($"{status} {Slug(text)}", 1, (_, v) => v + 1);
            }
            else if (status == 503 && Slug(text) == "store-unavailable")
            {
                Interlocked.Increment(ref report.Store503);
            }
            else
            {
                report.UnexpectedServerErrors.AddOrUpdate(status, 1, (_, v) => v + 1);
                Example(report, fuzz, $"{status} {text[..Math.Min(text.Length, 300)]}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            Interlocked.Increment(ref report.TransportErrors);
            Example(report, fuzz, ex.GetType().Name + ": " + ex.Message);
        }
    }

    private static void Example(FuzzReport report, FuzzCase fuzz, string what)
    {
        if (report.Examples.Count < 50)
        {
            report.Examples.Enqueue($"case {fuzz.Index} ({fuzz.Fixture.Name}; {string.Join('+', fuzz.Mutations)}; content type {fuzz.ContentType ?? "none"}): {what}");
        }
    }

    private static string Slug(string problem)
    {
        try
        {
            using var doc = JsonDocument.Parse(problem);
            return doc.RootElement.TryGetProperty("type", out var type) && type.GetString() is { } t ? t[(t.LastIndexOf('/') + 1)..] : "(no type)";
        }
        catch (JsonException)
        {
            return "(not a problem body)";
        }
    }

    /// <summary>Waits until every stored raw event has a final normalization outcome (or no progress for a while), then tallies them.</summary>
    private static async Task DrainAsync(string db, FuzzReport report, TimeSpan limit, JunctionProcess junction)
    {
        var deadline = Stopwatch.StartNew();
        long lastDone = -1;
        var stalled = Stopwatch.StartNew();
        while (true)
        {
            var (raw, done) = await CountAsync(db);
            report.RawEvents = raw;
            report.WithoutOutcome = raw - done;
            if (done == raw || junction.HasExited || deadline.Elapsed > limit) break;
            if (done != lastDone)
            {
                lastDone = done;
                stalled.Restart();
            }
            else if (stalled.Elapsed > TimeSpan.FromSeconds(60))
            {
                break;
            }
            await Task.Delay(500);
        }

        await using var connection = await OpenAsync(db);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT status, count(*) FROM normalization GROUP BY status";
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) report.Outcomes[reader.GetString(0)] = reader.GetInt64(1);
        }
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT reason FROM normalization WHERE status = 'quarantined'";
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var reason = reader.IsDBNull(0) ? "(none)" : reader.GetString(0);
                var key = Digits().Replace(reason.Length > 110 ? reason[..110] : reason, "#");
                if (reason.StartsWith("mapper for ", StringComparison.Ordinal) || reason.StartsWith("normalization failed:", StringComparison.Ordinal))
                {
                    report.MapperExceptions++;
                    var full = Digits().Replace(reason.Length > 400 ? reason[..400] : reason, "#");
                    report.ExceptionReasons[full] = report.ExceptionReasons.GetValueOrDefault(full) + 1;
                }
                report.QuarantineReasons[key] = report.QuarantineReasons.GetValueOrDefault(key) + 1;
            }
        }
    }

    private static async Task<(long Raw, long Done)> CountAsync(string db)
    {
        await using var connection = await OpenAsync(db);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT (SELECT count(*) FROM raw_events), (SELECT count(*) FROM normalization WHERE status IN ('mapped', 'ignored', 'quarantined'))";
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<SqliteConnection> OpenAsync(string db)
    {
        var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>VmRSS and VmHWM (the peak) of a process, in kB, from /proc.</summary>
    public static (long Current, long Peak) Rss(int pid)
    {
        long current = 0, peak = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) current = Kb(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line);
            }
        }
        catch (IOException)
        {
        }
        return (current, peak);

        static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Digits();

    /// <summary>
    /// The providers' side, faked: PayPal's IPN post-back answers VERIFIED to every message (so mutated
    /// IPN bodies reach the mapper), and Acuity's API returns the fixture appointment for any id.
    /// </summary>
    private static async Task<Fakes> StartFakesAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/cgi-bin/webscr", () => Results.Text("VERIFIED"));
        app.MapGet("/acuity/appointments/{id}", (string id) => Results.Text(Providers.Scheduling.AcuityFixtures.Appointment(id: id), "application/json"));
        await app.StartAsync();
        return new Fakes(app, new Uri(app.Urls.First()));
    }

    private sealed record Fakes(WebApplication App, Uri Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
