using System.Globalization;
using System.Text.Json.Nodes;
using Junction.Config;
using Junction.Dispatch;
using Junction.Storage;

namespace Junction.Dashboard;

/// <summary>A period the pages show: the last day, week or month.</summary>
public sealed record Period(string Key, string Label, DateTimeOffset From, DateTimeOffset To)
{
    public static readonly IReadOnlyList<(string Key, string Label, TimeSpan Span)> Choices =
        [("24h", "last 24 hours", TimeSpan.FromHours(24)), ("7d", "last 7 days", TimeSpan.FromDays(7)), ("30d", "last 30 days", TimeSpan.FromDays(30))];

    public static Period Parse(string? key, DateTimeOffset now)
    {
        var choice = Choices.FirstOrDefault(c => c.Key == key);
        if (choice.Key is null) choice = Choices[1];
        return new Period(choice.Key, choice.Label, now - choice.Span, now);
    }

    public long FromMs => From.ToUnixTimeMilliseconds();
    public long ToMs => To.ToUnixTimeMilliseconds();
}

/// <summary>A figure on the overview with where it comes from and how it is computed (shown on hover and in its details line).</summary>
public sealed record Kpi(string Title, string Value, string Source, string Formula, DateTimeOffset AsOf, bool Warn = false);

/// <summary>A chart as Chart.js takes it (type, labels, datasets), serialized into the page for assets/dashboard.js.</summary>
public sealed record ChartSpec(string Id, string Title, string Type, IReadOnlyList<string> Labels, IReadOnlyList<(string Label, IReadOnlyList<double> Values)> Series)
{
    public string Json()
    {
        var datasets = new JsonArray([.. Series.Select(s => (JsonNode)new JsonObject
        {
            ["label"] = s.Label,
            ["data"] = new JsonArray([.. s.Values.Select(v => (JsonNode)JsonValue.Create(v))]),
        })]);
        return new JsonObject
        {
            ["type"] = Type,
            ["data"] = new JsonObject { ["labels"] = new JsonArray([.. Labels.Select(l => (JsonNode)JsonValue.Create(l))]), ["datasets"] = datasets },
        }.ToJsonString();
    }
}

public sealed record SourceRow(string Id, string Provider, long Accepted, long Duplicates, long Rejected, IReadOnlyList<(string Reason, long Count)> Reasons);

public sealed record OverviewModel(Period Period, IReadOnlyList<Kpi> Kpis, IReadOnlyList<ChartSpec> Charts, IReadOnlyList<SourceRow> Sources,
    IReadOnlyList<(string Destination, long Delivered, long FailedAttempts, long Dead)> Deliveries);

/// <summary>What the pages read: the read model, the hourly counters, the dispatcher's live state. Each is an indexed query.</summary>
public sealed class DashboardData(JunctionConfig config, IJunctionStore store, TimeProvider time, IServiceProvider services, DashboardOptions options)
{
    private readonly RelationalStore _store = (RelationalStore)store;

    public RelationalStore Store => _store;

    public JunctionConfig Config => config;

    public DateTimeOffset Now => time.GetUtcNow();

    public Dispatcher? Dispatcher => services.GetService(typeof(Dispatcher)) as Dispatcher;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (DateTimeOffset At, object Value)> _cache = new(StringComparer.Ordinal);

    /// <summary>
    /// The overview of a period as last computed (at most <see cref="DashboardOptions.MaxAge"/> old; each figure says
    /// as of when), so a page over 1 000 000 events answers from memory; computed here when missing.
    /// </summary>
    public Task<OverviewModel> OverviewCachedAsync(Period period, CancellationToken cancellationToken) =>
        CachedAsync($"overview:{period.Key}", () => OverviewAsync(Period.Parse(period.Key, time.GetUtcNow()), cancellationToken));

    /// <summary>Lifetime revenue by first or last touch, as last computed, with when.</summary>
    public async Task<(IReadOnlyList<AttributedRevenue> Rows, DateTimeOffset AsOf)> RevenueCachedAsync(bool firstTouch, CancellationToken cancellationToken)
    {
        var key = $"revenue:{(firstTouch ? "first" : "last")}";
        var rows = await CachedAsync(key, () => _store.RevenueByTouchAsync(firstTouch, cancellationToken));
        return (rows, _cache.TryGetValue(key, out var entry) ? entry.At : time.GetUtcNow());
    }

    /// <summary>Recomputes every cached figure (the warmer calls it in the background).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        foreach (var (key, _, _) in Period.Choices)
        {
            _cache[$"overview:{key}"] = (time.GetUtcNow(), await OverviewAsync(Period.Parse(key, time.GetUtcNow()), cancellationToken));
        }
        _cache["revenue:first"] = (time.GetUtcNow(), await _store.RevenueByTouchAsync(true, cancellationToken));
        _cache["revenue:last"] = (time.GetUtcNow(), await _store.RevenueByTouchAsync(false, cancellationToken));
    }

    private async Task<T> CachedAsync<T>(string key, Func<Task<T>> compute) where T : class
    {
        if (_cache.TryGetValue(key, out var entry) && time.GetUtcNow() - entry.At <= options.MaxAge && entry.Value is T cached) return cached;
        var value = await compute();
        _cache[key] = (time.GetUtcNow(), value);
        return value;
    }

    public async Task<OverviewModel> OverviewAsync(Period period, CancellationToken cancellationToken)
    {
        var asOf = time.GetUtcNow();
        var figures = await _store.BusinessFiguresAsync(period.FromMs, period.ToMs, cancellationToken);
        var stats = await _store.StatTotalsAsync(period.FromMs, period.ToMs, cancellationToken);
        long Stat(string metric, string key) => stats.Where(s => s.Metric == metric && s.Key == key).Sum(s => s.Value);

        var net = figures.Gross.Select(g => new Storage.CurrencyAmount(g.Currency, g.Amount - (figures.Refunded.FirstOrDefault(r => r.Currency == g.Currency)?.Amount ?? 0)))
            .Concat(figures.Refunded.Where(r => figures.Gross.All(g => g.Currency != r.Currency)).Select(r => new Storage.CurrencyAmount(r.Currency, -r.Amount))).ToList();
        var courses = config.Destinations.Values.Where(d => d.Courses.Count > 0).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var failedEnrollments = stats.Where(s => s.Metric == "dead" && courses.Contains(s.Key)).Sum(s => s.Value);
        var delivered = stats.Where(s => s.Metric == "delivered").Sum(s => s.Value);
        var dead = stats.Where(s => s.Metric == "dead").Sum(s => s.Value);
        var accepted = stats.Where(s => s.Metric == "accepted").Sum(s => s.Value);

        var kpis = new List<Kpi>
        {
            new("Orders", N(figures.Orders), "order_summary (person state)", "paid orders in the period (paid_at), test orders left out", asOf),
            new("Revenue, net of refunds", Money(net), "order_summary (person state)", "per currency: amounts of orders paid in the period, less refunds made in the period", asOf),
            new("Refunds", figures.Refunds == 0 ? "0" : $"{N(figures.Refunds)} · {Money(figures.Refunded)}", "order_summary (person state)", "orders with a refund in the period (latest refund time), and the amounts refunded", asOf),
            new("New leads", N(figures.NewLeads), "person_summary (person state)", "people first seen in the period who hold email consent", asOf),
            new("Failed enrollments", N(failedEnrollments), "stats_hourly (delivery outcomes)", "deliveries to course platforms that went dead in the period", asOf, failedEnrollments > 0),
            new("Events ingested", N(accepted), "stats_hourly (intake)", "webhooks, form posts and API events stored in the period (duplicates not counted)", asOf),
            new("Delivery success", Rate(delivered, delivered + dead), "stats_hourly (delivery outcomes)", "deliveries that succeeded ÷ deliveries that ended (succeeded or dead) in the period", asOf, dead > 0),
            new("Reconciliation rate", Rate(figures.OrdersWithLead, figures.Orders), "order_summary + person_summary", "paid orders whose buyer was known before paying (first seen earlier) ÷ paid orders", asOf),
            new("UTM fidelity", Rate(figures.OrdersWithUtm, figures.Orders), "order_summary + person_summary", "paid orders whose buyer has a first touch with utm_source ÷ paid orders", asOf),
        };

        var sources = config.Sources.Values.OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => new SourceRow(s.Id, s.Provider, Stat("accepted", s.Id), Stat("duplicate", s.Id),
            stats.Where(t => t.Metric == "rejected" && t.Key.StartsWith(s.Id + "|", StringComparison.Ordinal)).Sum(t => t.Value),
            [.. stats.Where(t => t.Metric == "rejected" && t.Key.StartsWith(s.Id + "|", StringComparison.Ordinal)).Select(t => (t.Key[(s.Id.Length + 1)..], t.Value))])).ToList();
        var deliveries = config.Destinations.Keys.Order(StringComparer.Ordinal)
            .Select(d => (d, Stat("delivered", d), Stat("failed_attempt", d), Stat("dead", d))).ToList();

        return new OverviewModel(period, kpis, await ChartsAsync(period, deliveries, cancellationToken), sources, deliveries);
    }

    private async Task<List<ChartSpec>> ChartsAsync(Period period, List<(string, long, long, long)> deliveries, CancellationToken cancellationToken)
    {
        var hourly = await _store.StatSeriesAsync("accepted", period.FromMs, period.ToMs, cancellationToken);
        var daily = period.To - period.From > TimeSpan.FromDays(2);
        var bucket = daily ? 86_400_000L : 3_600_000L;
        var start = period.FromMs - period.FromMs % bucket;
        var buckets = Enumerable.Range(0, (int)((period.ToMs - start) / bucket) + 1).Select(i => start + i * bucket).ToList();
        string Label(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString(daily ? "MM-dd" : "HH:00", CultureInfo.InvariantCulture);
        var events = new ChartSpec("events", daily ? "Events per day by source" : "Events per hour by source", "bar", [.. buckets.Select(Label)],
            [.. hourly.GroupBy(h => h.Key).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key,
                (IReadOnlyList<double>)[.. buckets.Select(b => (double)g.Where(h => h.HourMs - h.HourMs % bucket == b).Sum(h => h.Value))]))]);
        var revenue = await _store.RevenueByDayAsync(period.FromMs, period.ToMs, cancellationToken);
        var days = Enumerable.Range(0, (int)((period.ToMs - (period.FromMs - period.FromMs % 86_400_000)) / 86_400_000) + 1)
            .Select(i => period.FromMs - period.FromMs % 86_400_000 + i * 86_400_000L).ToList();
        var money = new ChartSpec("revenue", "Revenue per day (net of refunds of those orders)", "line",
            [.. days.Select(d => DateTimeOffset.FromUnixTimeMilliseconds(d).UtcDateTime.ToString("MM-dd", CultureInfo.InvariantCulture))],
            [.. revenue.GroupBy(r => r.Currency).Select(g => (g.Key, (IReadOnlyList<double>)[.. days.Select(d => g.Where(r => r.DayMs == d).Sum(r => r.Amount) / 100.0)]))]);
        var success = new ChartSpec("deliveries", "Deliveries per destination", "bar", [.. deliveries.Select(d => d.Item1)],
        [
            ("succeeded", [.. deliveries.Select(d => (double)d.Item2)]),
            ("failed attempts", [.. deliveries.Select(d => (double)d.Item3)]),
            ("dead", [.. deliveries.Select(d => (double)d.Item4)]),
        ]);
        return [events, money, success];
    }

    /// <summary>People holding what was typed: an email, a person id, an order id (any source), or TYPE:VALUE.</summary>
    public async Task<IReadOnlyList<string>> SearchAsync(string query, CancellationToken cancellationToken)
    {
        if (Canonical.Identifiers.NormalizeEmail(query) is { } email && query.Contains('@', StringComparison.Ordinal))
        {
            return await _store.FindPeopleAsync(Identity.IdentifierKey.Email(email), cancellationToken);
        }
        if (await _store.GetPersonAsync(query, cancellationToken) is { } person) return [person.PersonId];
        var keys = new List<Identity.IdentifierKey>();
        if (Project.PeopleApi.TryParseIdentifier(query, out var parsed)) keys.AddRange(parsed);
        keys.Add(new Identity.IdentifierKey(Identity.IdentifierType.OrderId, query));
        keys.Add(new Identity.IdentifierKey(Identity.IdentifierType.CustomerId, query));
        foreach (var key in keys)
        {
            if (await _store.FindPeopleAsync(key, cancellationToken) is { Count: > 0 } ids) return ids;
        }
        return [];
    }

    public static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Rate(long part, long whole) => whole == 0 ? "–" : (100.0 * part / whole).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    public static string Money(IEnumerable<Storage.CurrencyAmount> amounts)
    {
        var list = amounts.Where(a => a.Amount != 0).ToList();
        return list.Count == 0 ? "0" : string.Join(" · ", list.Select(a => $"{Canonical.Money.FormatMajor(a.Amount, a.Currency)} {a.Currency.ToUpperInvariant()}"));
    }

    public static string Time(long ms) => Observability.Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(ms));
}

public sealed record DashboardOptions
{
    /// <summary>How old a cached figure may be before a page computes it itself (the warmer refreshes them every <see cref="DashboardWarmer.Every"/>).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// Keeps the dashboard's heavy aggregates (the overview of each period, revenue by touch) fresh in
/// memory, from start and then every minute, so pages answer in milliseconds at 1 000 000 events and
/// show as of when each figure was computed (at that size a refresh costs about two seconds of one core).
/// </summary>
public sealed class DashboardWarmer(DashboardData data, TimeProvider time, ILogger<DashboardWarmer> logger) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await data.RefreshAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Observability.Log.DashboardRefreshFailed(logger, ex);
            }
            try
            {
                await Task.Delay(Every, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
