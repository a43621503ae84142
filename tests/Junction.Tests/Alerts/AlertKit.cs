using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Junction.Alerts;
using Junction.Audit;
using Junction.Canonical;
using Junction.Config;
using Junction.Dispatch;
using Junction.Normalize;
using Junction.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Alerts;

/// <summary>An evaluator over a real store on a fake clock, and the writes that make each signal fire.</summary>
internal sealed class AlertKit : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private int _n;

    private AlertKit(ServiceProvider services, FakeTimeProvider time)
    {
        _services = services;
        Time = time;
    }

    public FakeTimeProvider Time { get; }
    public RelationalStore Store => (RelationalStore)_services.GetRequiredService<IJunctionStore>();
    public JunctionConfig Config => _services.GetRequiredService<JunctionConfig>();

    public static JunctionConfig ConfigWith(string storage, AlertSettings alerts) => new()
    {
        Storage = storage,
        Admin = new AdminConfig(["alerts-admin-token-0123456789"]),
        Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
        {
            ["stripe-main"] = new() { Id = "stripe-main", Provider = "stripe", Secrets = ["whsec_alerts_test_secret"] },
        },
        Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal)
        {
            ["teachable-main"] = new()
            {
                Id = "teachable-main", Type = "teachable", Traits = DestinationTypes.TraitsOf("teachable"), BaseUrl = new Uri("http://127.0.0.1:9/"), RateLimit = 1,
                Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = "teachable-test-key" },
                Courses = new Dictionary<string, string>(StringComparer.Ordinal) { ["course-pro"] = "101" },
            },
        },
        Alerts = alerts,
        Path = "alerts-test.yaml",
    };

    /// <summary>Only <paramref name="rules"/> on (the others off, so each test reads one signal), notifying <paramref name="notifiers"/>.</summary>
    public static AlertSettings Only(IEnumerable<string> rules, IReadOnlyDictionary<string, NotifierConfig> notifiers, Func<AlertRule, AlertRule>? tweak = null)
    {
        var on = rules.ToHashSet(StringComparer.Ordinal);
        return new AlertSettings
        {
            Rules = AlertRules.Defaults.ToDictionary(r => r.Key, r => on.Contains(r.Key) ? (tweak ?? (x => x))(r.Value) : r.Value with { Enabled = false }, StringComparer.Ordinal),
            Notifiers = notifiers,
        };
    }

    public static async Task<AlertKit> StartAsync(JunctionConfig config, FakeTimeProvider? time = null, IJunctionStore? sharedStore = null)
    {
        time ??= new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddLogging(l => l.ClearProviders());
        services.AddSingleton(config);
        services.AddSingleton<TimeProvider>(time);
        var store = sharedStore ?? StoreFactory.Open(config.Storage, time);
        services.AddSingleton(store);
        services.AddAlerts(evaluate: false);
        services.AddSingleton<AlertEvaluator>();
        var provider = services.BuildServiceProvider();
        if (sharedStore is null) await store.MigrateAsync(CancellationToken.None);
        return new AlertKit(provider, time);
    }

    public AlertEvaluator NewEvaluator() => ActivatorUtilities.CreateInstance<AlertEvaluator>(_services);

    public Task EvaluateAsync() => _services.GetRequiredService<AlertEvaluator>().EvaluateAsync(CancellationToken.None);

    public IncidentActions Actions => _services.GetRequiredService<IncidentActions>();

    public async Task<StoredIncident> SingleIncidentAsync(string rule, string? subject = null)
    {
        var all = (await Store.ListIncidentsAsync(null, 100, CancellationToken.None)).Where(i => i.Rule == rule && (subject is null || i.Subject == subject)).ToList();
        return Assert.Single(all);
    }

    public async Task<IReadOnlyList<StoredIncident>> IncidentsAsync() => await Store.ListIncidentsAsync(null, 100, CancellationToken.None);

    public async Task<IReadOnlyList<IncidentEvent>> TimelineAsync(string id) => await Store.IncidentTimelineAsync(id, CancellationToken.None);

    /// <summary>Canonical events that occurred at <paramref name="at"/> (normalization's own commit).</summary>
    public async Task EventsAsync(string type, int count, DateTimeOffset at, bool test = false, long amount = 4900)
    {
        var outcomes = new List<NormalizationOutcome>();
        for (var i = 0; i < count; i++)
        {
            var n = Interlocked.Increment(ref _n);
            var rawId = $"raw_evt_{n}";
            var e = new CanonicalEvent
            {
                Id = CanonicalEvent.MakeId("stripe-main", $"{type}:{n}"),
                RawId = rawId,
                Source = "stripe-main",
                Provider = "stripe",
                Type = type,
                OccurredAt = at,
                TraceId = "trace" + n,
                Subject = new Subject { Email = $"buyer{n}@example.com" },
                Order = new OrderInfo { OrderId = "ord_" + n, Amount = amount, Currency = "usd" },
                TestMode = test,
            };
            outcomes.Add(new NormalizationOutcome
            {
                RawId = rawId, RawSeq = n, Source = "stripe-main", ProviderType = type, Status = NormalizationStatus.Mapped,
                Events = [(e, CanonicalJson.Serialize(e))],
            });
        }
        await Store.CommitNormalizationAsync(outcomes, null, 0, null, CancellationToken.None);
    }

    /// <summary>Raw events accepted from <paramref name="source"/> at each of <paramref name="times"/>.</summary>
    public async Task RawAsync(string source, IEnumerable<DateTimeOffset> times)
    {
        var drafts = times.Select(t =>
        {
            var n = Interlocked.Increment(ref _n);
            var body = Encoding.UTF8.GetBytes($"{{\"id\":\"evt_{n}\"}}");
            return new RawEventDraft($"raw_{n}", source, $"evt_{n}", t, "trace" + n, "application/json", "{}", body, Convert.ToHexStringLower(SHA256.HashData(body)));
        }).ToList();
        await Store.AppendRawAsync(drafts, CancellationToken.None);
    }

    /// <summary>State deliveries to <paramref name="destination"/> that end (succeeded or dead) at the clock's now.</summary>
    public async Task DeliveriesAsync(string destination, int count, string state, string kind = DeliveryKinds.State, string? eventId = null)
    {
        var drafts = Enumerable.Range(0, count).Select(_ =>
        {
            var n = Interlocked.Increment(ref _n);
            return new DeliveryDraft { Destination = destination, PersonId = "per_" + n, Kind = kind, EventId = eventId, Payload = "{}" };
        }).ToList();
        await Store.EnqueueDeliveriesAsync(drafts, CancellationToken.None);
        var claimed = await Store.ClaimDeliveriesAsync(destination, "kit", 1000, TimeSpan.FromMinutes(1), CancellationToken.None);
        var now = Time.GetUtcNow().ToUnixTimeMilliseconds();
        await Store.CompleteDeliveriesAsync([.. claimed.Select(c => new DeliveryCompletion(c.Id, "kit", state, new DeliveryAttemptRecord(1, now, 5, state, 500, null),
            DeadReason: state == DeliveryStates.Dead ? "gave up" : null))], CancellationToken.None);
    }

    /// <summary>A completed audit with these points (number, checked, mismatches, threshold) and reconciliation rate.</summary>
    public async Task AuditAsync(double? reconciliation, params (int Point, int Checked, int Mismatches, double Threshold, long Revenue)[] points)
    {
        var id = "aud_" + Interlocked.Increment(ref _n);
        var now = Time.GetUtcNow().ToUnixTimeMilliseconds();
        await Store.InsertAuditAsync(id, "test", now, now - 86_400_000, now, CancellationToken.None);
        var report = JsonSerializer.Serialize(new StoredReport(
            [.. points.Select(p => new StoredPoint(p.Point, p.Checked, p.Mismatches, p.Threshold, p.Revenue > 0 ? new Dictionary<string, long> { ["USD"] = p.Revenue } : new Dictionary<string, long>()))],
            [], 0, reconciliation), AuditJson.Default.StoredReport);
        await Store.CompleteAuditAsync(id, now, "completed", report, null, [], new Dictionary<(string, string), HealWrite>(), new Dictionary<AuditFinding, string>(), CancellationToken.None);
        Time.Advance(TimeSpan.FromSeconds(1));
    }

    public async Task SmokeAsync(string status)
    {
        var id = "smk_" + Interlocked.Increment(ref _n);
        var now = Time.GetUtcNow().ToUnixTimeMilliseconds();
        await Store.InsertSmokeRunAsync(id, "test", "synthetic", "stripe-main", now, CancellationToken.None);
        await Store.UpdateSmokeRunAsync(id, "[]", null, status, status == "failed" ? "purchase" : null, now, CancellationToken.None);
        Time.Advance(TimeSpan.FromSeconds(1));
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
    }
}
