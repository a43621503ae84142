using System.Globalization;
using System.Text.Json;
using Junction.Audit;
using Junction.Canonical;
using Junction.Config;
using Junction.Normalize;
using Junction.Storage;

namespace Junction.Alerts;

/// <summary>A rule's condition holding now for one subject (a source, a destination, an audit point, or "all").</summary>
public sealed record AlertObservation(string Rule, string Subject, string Summary, IReadOnlyDictionary<string, long> Revenue, IReadOnlyList<string> Affected);

/// <summary>
/// Reads each enabled rule's signal from the store (raw_events, canonical_events, deliveries, audits,
/// smoke_runs) with indexed window queries, and returns the conditions that hold now. A subject not
/// returned is healthy. Test-mode events and test people never count.
/// </summary>
public sealed class AlertSignals(JunctionConfig config, IJunctionStore store)
{
    /// <summary>Events affected kept on an incident: enough to start from, not the whole log.</summary>
    public const int AffectedCap = 50;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("alerts need the relational store", nameof(store));

    public async Task<IReadOnlyList<AlertObservation>> FiringAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = new List<AlertObservation>();
        foreach (var rule in config.Alerts.Rules.Values.Where(r => r.Enabled).OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            switch (rule.Name)
            {
                case AlertRules.PaymentFailures: result.AddRange(await PaymentFailuresAsync(rule, now, cancellationToken)); break;
                case AlertRules.EnrollmentsDown: result.AddRange(await EnrollmentsDownAsync(rule, now, cancellationToken)); break;
                case AlertRules.IngestionDown: result.AddRange(await IngestionDownAsync(rule, now, cancellationToken)); break;
                case AlertRules.ReconciliationLow: result.AddRange(await ReconciliationLowAsync(rule, cancellationToken)); break;
                case AlertRules.DlqGrowing: result.AddRange(await DlqGrowingAsync(rule, now, cancellationToken)); break;
                case AlertRules.SourceSilent: result.AddRange(await SourceSilentAsync(rule, now, cancellationToken)); break;
                case AlertRules.SmokeFailing: result.AddRange(await SmokeFailingAsync(cancellationToken)); break;
                case AlertRules.AuditOverThreshold: result.AddRange(await AuditOverThresholdAsync(rule, cancellationToken)); break;
            }
        }
        return result;
    }

    private async Task<IEnumerable<AlertObservation>> PaymentFailuresAsync(AlertRule rule, DateTimeOffset now, CancellationToken ct)
    {
        var from = now - rule.Window;
        var failed = await _store.CountLiveEventsAsync(EventTypes.PaymentFailed, from, now, ct);
        var attempts = failed + await _store.CountLiveEventsAsync(EventTypes.OrderPaid, from, now, ct);
        if (attempts == 0 || attempts < rule.MinEvents || (double)failed / attempts <= rule.Threshold) return [];
        var events = await _store.ListLiveEventsAsync(EventTypes.PaymentFailed, from, now, AffectedCap, ct);
        return [new AlertObservation(rule.Name, "all",
            string.Create(Inv, $"{failed} of {attempts} payment attempts failed in the last {Spans.Format(rule.Window)} ({Percent((double)failed / attempts)}; threshold {Percent(rule.Threshold)})"),
            OrdersRevenue(events.Select(e => e.Body)), [.. events.Select(e => e.Id)])];
    }

    private async Task<IEnumerable<AlertObservation>> EnrollmentsDownAsync(AlertRule rule, DateTimeOffset now, CancellationToken ct)
    {
        List<string> courses = [.. config.Destinations.Values.Where(d => d.Courses.Count > 0).Select(d => d.Id).Order(StringComparer.Ordinal)];
        if (courses.Count == 0) return [];
        var nowMs = now.ToUnixTimeMilliseconds();
        var window = (long)rule.Window.TotalMilliseconds;
        var day = (long)TimeSpan.FromDays(1).TotalMilliseconds;
        var current = await _store.CountSucceededStateDeliveriesAsync(courses, nowMs - window, nowMs, ct);
        var yesterday = await _store.CountSucceededStateDeliveriesAsync(courses, nowMs - day - window, nowMs - day, ct);
        if (yesterday == 0 || yesterday < rule.MinEvents || current >= yesterday * (1 - rule.Threshold)) return [];
        return [new AlertObservation(rule.Name, "all",
            string.Create(Inv, $"{current} course enrollments delivered in the last {Spans.Format(rule.Window)} against {yesterday} the same hour yesterday (down {Percent(1 - (double)current / yesterday)}; threshold {Percent(rule.Threshold)}) to {string.Join(", ", courses)}"),
            new Dictionary<string, long>(), [])];
    }

    private async Task<IEnumerable<AlertObservation>> IngestionDownAsync(AlertRule rule, DateTimeOffset now, CancellationToken ct)
    {
        var current = await _store.CountLiveRawBySourceAsync(now - rule.Window, now, ct);
        var yesterday = await _store.CountLiveRawBySourceAsync(now - TimeSpan.FromDays(1) - rule.Window, now - TimeSpan.FromDays(1), ct);
        var pairs = yesterday.Select(y => (Subject: y.Key, Then: y.Value, Now: current.GetValueOrDefault(y.Key))).ToList();
        // The total is its own subject only beside several sources (with one, it would repeat that source's incident).
        if (yesterday.Count > 1) pairs.Add(("all", yesterday.Values.Sum(), current.Values.Sum()));
        var result = new List<AlertObservation>();
        foreach (var (subject, then, count) in pairs.OrderBy(p => p.Subject, StringComparer.Ordinal))
        {
            if (then == 0 || then < rule.MinEvents || count >= then * (1 - rule.Threshold)) continue;
            result.Add(new AlertObservation(rule.Name, subject,
                string.Create(Inv, $"{count} raw events accepted{(subject == "all" ? "" : " from " + subject)} in the last {Spans.Format(rule.Window)} against {then} the same hour yesterday (down {Percent(1 - (double)count / then)}; threshold {Percent(rule.Threshold)})"),
                new Dictionary<string, long>(), []));
        }
        return result;
    }

    private async Task<IEnumerable<AlertObservation>> ReconciliationLowAsync(AlertRule rule, CancellationToken ct)
    {
        if (await LatestAuditAsync(ct) is not { } latest || latest.Report.Reconciliation is not { } rate || rate >= rule.Threshold) return [];
        return [new AlertObservation(rule.Name, "all",
            string.Create(Inv, $"reconciliation rate {Percent(rate)} in audit {latest.Audit.Id} (threshold {Percent(rule.Threshold)}): paid orders whose buyer was not a known lead before paying"),
            new Dictionary<string, long>(), [latest.Audit.Id])];
    }

    private async Task<IEnumerable<AlertObservation>> DlqGrowingAsync(AlertRule rule, DateTimeOffset now, CancellationToken ct)
    {
        var dead = await _store.DeadSinceAsync((now - rule.Window).ToUnixTimeMilliseconds(), 1000, ct);
        var result = new List<AlertObservation>();
        foreach (var group in dead.GroupBy(d => d.Destination, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var count = group.Count();
            if (count <= rule.Threshold) continue;
            result.Add(new AlertObservation(rule.Name, group.Key,
                string.Create(Inv, $"{count}{(count >= 1000 ? "+" : "")} deliveries to {group.Key} went to the DLQ in the last {Spans.Format(rule.Window)}"),
                OrdersRevenue(group.Select(d => d.EventBody).OfType<string>()),
                [.. group.Take(AffectedCap).Select(d => d.EventId ?? "delivery:" + d.Id.ToString(Inv))]));
        }
        return result;
    }

    private async Task<IEnumerable<AlertObservation>> SourceSilentAsync(AlertRule rule, DateTimeOffset now, CancellationToken ct)
    {
        var result = new List<AlertObservation>();
        foreach (var source in config.Sources.Keys.Order(StringComparer.Ordinal))
        {
            if (Providers.ProviderRegistry.TryGet(config.Sources[source].Provider, out var provider) && !provider.Continuous) continue;
            // The newest 21 arrivals give 20 gaps: their median is the source's usual pace, unmoved by one burst.
            var times = await _store.RecentLiveRawTimesAsync(source, 21, ct);
            if (times.Count < Math.Max(2, rule.MinEvents)) continue;
            var gaps = times.Zip(times.Skip(1), (newer, older) => newer - older).Order().ToList();
            var usual = gaps[gaps.Count / 2];
            var limit = TimeSpan.FromTicks(Math.Max((long)(usual.Ticks * rule.Threshold), rule.Window.Ticks));
            var silent = now - times[0];
            if (silent <= limit) continue;
            result.Add(new AlertObservation(rule.Name, source,
                string.Create(Inv, $"no event from {source} for {Spans.Format(silent)}; its usual gap is {Spans.Format(usual)} (limit {rule.Threshold:0.##}× that, at least {Spans.Format(rule.Window)}): has the provider disabled the webhook?"),
                new Dictionary<string, long>(), []));
        }
        return result;
    }

    private async Task<IEnumerable<AlertObservation>> SmokeFailingAsync(CancellationToken ct)
    {
        var latest = (await _store.ListSmokeRunsAsync(10, null, ct)).FirstOrDefault(r => r.Status is "passed" or "failed");
        if (latest is not { Status: "failed" }) return [];
        return [new AlertObservation(AlertRules.SmokeFailing, "smoke",
            $"smoke run {latest.Id} ({latest.Mode}, {latest.Source}) failed at step {latest.FailedStep ?? "?"}", new Dictionary<string, long>(), [latest.Id])];
    }

    private async Task<IEnumerable<AlertObservation>> AuditOverThresholdAsync(AlertRule rule, CancellationToken ct)
    {
        if (await LatestAuditAsync(ct) is not { } latest) return [];
        var over = latest.Report.Points.Where(p => p.Checked > 0 && (double)p.Mismatches / p.Checked > p.Threshold && p.Mismatches > rule.Threshold).ToList();
        if (over.Count == 0) return [];
        var findings = await _store.FindingsAsync(latest.Audit.Id, null, ct);
        var result = new List<AlertObservation>();
        foreach (var p in over)
        {
            var name = AuditPoints.All.FirstOrDefault(a => a.Number == p.Point)?.Name ?? p.Point.ToString(Inv);
            result.Add(new AlertObservation(rule.Name, name,
                string.Create(Inv, $"audit {latest.Audit.Id}: point {p.Point} {name}: {p.Mismatches} of {p.Checked} mismatched ({Percent((double)p.Mismatches / p.Checked)}; threshold {Percent(p.Threshold)})"),
                p.RevenueAtRisk,
                [.. findings.Where(f => f.Point == p.Point).Select(f => f.OrderId ?? f.PersonId ?? "finding:" + f.Id.ToString(Inv)).Distinct(StringComparer.Ordinal).Take(AffectedCap)]));
        }
        return result;
    }

    private async Task<(StoredAudit Audit, StoredReport Report)?> LatestAuditAsync(CancellationToken ct)
    {
        var audit = (await _store.ListAuditsAsync(10, ct)).FirstOrDefault(a => a.Status == "completed" && a.Report is not null);
        if (audit is null) return null;
        var report = JsonSerializer.Deserialize(audit.Report!, AuditJson.Default.StoredReport);
        return report is null ? null : (audit, report);
    }

    /// <summary>Minor units per currency (upper case) of the orders the events name, each order once.</summary>
    private static Dictionary<string, long> OrdersRevenue(IEnumerable<string> bodies)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var revenue = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var body in bodies)
        {
            CanonicalEvent e;
            try
            {
                e = CanonicalJson.Deserialize(body);
            }
            catch (JsonException)
            {
                continue;
            }
            if (e.Order is not { Amount: { } amount, Currency: { } currency } order || !seen.Add(e.Source + "|" + order.OrderId)) continue;
            var key = currency.ToUpperInvariant();
            revenue[key] = revenue.GetValueOrDefault(key) + amount;
        }
        return revenue;
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("0.##", Inv) + "%";
}

/// <summary>Short human spans for summaries: 45s, 30m, 2h 5m, 3d 4h.</summary>
public static class Spans
{
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = TimeSpan.Zero;
        var inv = CultureInfo.InvariantCulture;
        if (span.TotalMinutes < 1) return ((long)span.TotalSeconds).ToString(inv) + "s";
        if (span.TotalHours < 1) return ((long)span.TotalMinutes).ToString(inv) + "m";
        if (span.TotalDays < 1) return span.Minutes == 0 ? $"{(long)span.TotalHours}h" : $"{(long)span.TotalHours}h {span.Minutes}m";
        return span.Hours == 0 ? $"{(long)span.TotalDays}d" : $"{(long)span.TotalDays}d {span.Hours}h";
    }
}
