using System.Globalization;
using System.Text;
using Junction.Config;
using Junction.Storage;

namespace Junction.Alerts;

/// <summary>
/// Evaluates the alert rules and keeps the incidents (R7.2, R7.6). Every node runs this loop; the
/// store's conditional claim with a lease (the audit schedule's, under its own object name) lets
/// exactly one node evaluate each round, and a node that died mid-round is replaced when its lease ends.
/// Hysteresis: a condition fires once it has held for the rule's <c>for:</c>, an open incident is
/// never notified again while it stays open, and it closes by itself after <c>cooldown</c> healthy.
/// </summary>
public sealed class AlertEvaluator(JunctionConfig config, IJunctionStore store, AlertSignals signals, AlertNotifiers notifiers,
    TimeProvider time, ILogger<AlertEvaluator> logger) : BackgroundService
{
    /// <summary>The row in the schedule table this loop claims.</summary>
    public const string ScheduleObject = "alerts";

    private static readonly string[] Unresolved = [IncidentStatuses.Open, IncidentStatuses.Acknowledged, IncidentStatuses.Snoozed];
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("alerts need the relational store", nameof(store));

    /// <summary>How often a node looks whether a round is due: a quarter of the interval, 1 s to 15 s.</summary>
    public TimeSpan Poll { get; init; } = Clamp(config.Alerts.Interval / 4, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));

    // A round's holder keeps it this long if it dies: the interval, 10 s to 5 min.
    private TimeSpan Lease => Clamp(config.Alerts.Interval, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.Alerts.Rules.Values.Any(r => r.Enabled)) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Observability.Log.AlertEvaluationFailed(logger, ex);
            }
            await Task.Delay(Poll, time, stoppingToken);
        }
    }

    /// <summary>Evaluates once when a round is due and this node wins it. True when it evaluated.</summary>
    public async Task<bool> TickAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!await _store.TryClaimScheduledAuditAsync(ScheduleObject, _owner, now, now, (long)Lease.TotalMilliseconds, cancellationToken)) return false;
        await EvaluateAsync(cancellationToken);
        await _store.CompleteScheduledAuditAsync(ScheduleObject, _owner, now + (long)config.Alerts.Interval.TotalMilliseconds, ScheduleObject, cancellationToken);
        return true;
    }

    /// <summary>One round: open, update and close incidents from what the signals say now, and notify.</summary>
    public async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var firing = new Dictionary<(string, string), AlertObservation>();
        foreach (var o in await signals.FiringAsync(now, cancellationToken)) firing[(o.Rule, o.Subject)] = o;
        var open = (await _store.ListUnresolvedIncidentsAsync(cancellationToken)).ToDictionary(i => (i.Rule, i.Subject));
        var pending = await _store.LoadAlertPendingAsync(cancellationToken);

        foreach (var (key, o) in firing)
        {
            var rule = config.Alerts.Rules[o.Rule];
            var revenue = IncidentView.RevenueJson(o.Revenue);
            var affected = IncidentView.AffectedJson(o.Affected);
            if (open.TryGetValue(key, out var incident))
            {
                // Deduplicated: a new firing of an open incident goes on its timeline, and notifies nobody.
                List<TimelineWrite> lines = incident.HealthySince is null ? [] : [new TimelineWrite("fired_again", null, o.Summary)];
                await _store.UpdateIncidentSignalAsync(incident.Id, o.Summary, revenue, affected, null, nowMs, lines, cancellationToken);
                continue;
            }
            if (!pending.TryGetValue(key, out var since))
            {
                since = nowMs;
                if (rule.For > TimeSpan.Zero) await _store.SetAlertPendingAsync(o.Rule, o.Subject, since, cancellationToken);
            }
            if (nowMs - since < (long)rule.For.TotalMilliseconds) continue;
            await OpenAsync(o, rule, revenue, affected, nowMs, cancellationToken);
        }

        foreach (var key in pending.Keys.Where(k => !firing.ContainsKey(k)))
        {
            await _store.DeleteAlertPendingAsync(key.Rule, key.Subject, cancellationToken);
        }

        foreach (var (key, incident) in open)
        {
            var stillFiring = firing.ContainsKey(key);
            if (incident.Status == IncidentStatuses.Snoozed && incident.SnoozedUntil <= nowMs)
            {
                if (await _store.TransitionIncidentAsync(incident.Id, [IncidentStatuses.Snoozed], IncidentStatuses.Open, nowMs, null,
                        new TimelineWrite("snooze_ended", null, stillFiring ? "snooze over; still firing" : "snooze over"), cancellationToken) && stillFiring)
                {
                    await NotifyAsync(AlertEvents.Reminder, incident.Id, nowMs, cancellationToken);
                }
            }
            if (stillFiring) continue;
            var cooldown = config.Alerts.Rules.GetValueOrDefault(incident.Rule)?.Cooldown ?? TimeSpan.FromMinutes(15);
            if (incident.HealthySince is not { } healthy)
            {
                await _store.UpdateIncidentSignalAsync(incident.Id, incident.Summary, incident.Revenue, incident.Affected, nowMs, nowMs,
                    [new TimelineWrite("healthy", null, $"signal healthy again; closes by itself after {Spans.Format(cooldown)} healthy")], cancellationToken);
            }
            else if (nowMs - healthy >= (long)cooldown.TotalMilliseconds
                     && await _store.TransitionIncidentAsync(incident.Id, Unresolved, IncidentStatuses.Resolved, nowMs, null,
                         new TimelineWrite("closed", null, $"closed by itself: healthy for {Spans.Format(cooldown)}"), cancellationToken))
            {
                Observability.Log.IncidentClosed(logger, incident.Id, incident.Rule, incident.Subject);
                await NotifyAsync(AlertEvents.Resolved, incident.Id, nowMs, cancellationToken);
            }
        }
    }

    private async Task OpenAsync(AlertObservation o, AlertRule rule, string revenue, string affected, long nowMs, CancellationToken cancellationToken)
    {
        var runbook = config.Alerts.Runbooks.GetValueOrDefault(o.Rule);
        var incident = new StoredIncident("inc_" + Guid.CreateVersion7(time.GetUtcNow()).ToString("N"), o.Rule, o.Subject, IncidentStatuses.Open, rule.Severity,
            o.Summary, nowMs, nowMs, null, null, null, revenue, affected, IncidentView.RunbookJson(runbook, config.Alerts.NotifyFor(o.Rule)));
        if (!await _store.InsertIncidentAsync(incident, [new TimelineWrite("fired", null, o.Summary)], cancellationToken)) return;
        Observability.Log.IncidentOpened(logger, incident.Id, o.Rule, o.Subject);
        await NotifyAsync(AlertEvents.Opened, incident.Id, nowMs, cancellationToken);
    }

    private async Task NotifyAsync(string alertEvent, string incidentId, long nowMs, CancellationToken cancellationToken)
    {
        if (await _store.GetIncidentAsync(incidentId, cancellationToken) is not { } incident) return;
        var ids = config.Alerts.NotifyFor(incident.Rule);
        if (ids.Count == 0) return;
        var outcomes = await notifiers.SendAsync(Message(alertEvent, incident), ids, cancellationToken);
        foreach (var failed in outcomes.Where(x => !x.Ok)) Observability.Log.NotifyFailed(logger, incident.Id, failed.Notifier, failed.Detail);
        await _store.AppendIncidentTimelineAsync(incident.Id, nowMs, [.. outcomes.Select(x => new TimelineWrite(x.Ok ? "notified" : "notify_failed", null, $"{alertEvent}: {x}"))], cancellationToken);
    }

    /// <summary>Title and text every notifier shares: what fired, what is at risk, the runbook.</summary>
    public static AlertMessage Message(string alertEvent, StoredIncident incident)
    {
        ArgumentNullException.ThrowIfNull(incident);
        var inv = CultureInfo.InvariantCulture;
        var verb = alertEvent switch { AlertEvents.Resolved => "resolved", AlertEvents.Reminder => "still firing", _ => "fired" };
        var title = $"[{incident.Severity}] {incident.Rule} ({incident.Subject}) {verb}";
        var text = new StringBuilder().Append(incident.Summary).Append('\n');
        var revenue = IncidentView.Revenue(incident);
        if (revenue.Count > 0)
        {
            text.Append("Revenue at risk: ").Append(string.Join(", ", revenue.OrderBy(r => r.Key, StringComparer.Ordinal)
                .Select(r => $"{Canonical.Money.FormatMajor(r.Value, r.Key)} {r.Key}"))).Append('\n');
        }
        if (IncidentView.Rollback(incident) is { } rollback) text.Append("Rollback (one click): ").Append(rollback).Append('\n');
        if (System.Text.Json.Nodes.JsonNode.Parse(incident.Runbook)?["fallback"]?.GetValue<string>() is { Length: > 0 } fallback) text.Append("Fallback: ").Append(fallback).Append('\n');
        text.Append(inv, $"Incident {incident.Id}: junction incidents show {incident.Id}");
        return new AlertMessage(alertEvent, IncidentView.ToJson(incident, null), title, text.ToString());
    }

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) => value < min ? min : value > max ? max : value;
}

public static class IncidentStatuses
{
    public const string Open = "open";
    public const string Acknowledged = "acknowledged";
    public const string Snoozed = "snoozed";
    public const string Resolved = "resolved";
}
