using Junction.Config;
using Junction.Storage;

namespace Junction.Alerts;

public enum IncidentOutcome
{
    Done,
    NotFound,

    /// <summary>Not possible in the incident's status (already resolved, no rollback in its runbook …).</summary>
    Conflict,
}

public sealed record IncidentActionResult(IncidentOutcome Outcome, string Detail);

/// <summary>
/// What an operator does to an incident — acknowledge, snooze, resolve with a note, run the runbook's
/// rollback — each a conditional status change with its timeline line (who, when, what). Shared by
/// the API and the CLI so both behave the same.
/// </summary>
public sealed class IncidentActions(JunctionConfig config, IJunctionStore store, TimeProvider time, ILogger<IncidentActions> logger, IServiceProvider services)
{
    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("incidents need the relational store", nameof(store));

    public Task<IncidentActionResult> AckAsync(string id, string actor, string? note, CancellationToken cancellationToken) =>
        TransitionAsync(id, [IncidentStatuses.Open, IncidentStatuses.Snoozed], IncidentStatuses.Acknowledged, null,
            new TimelineWrite("ack", actor, string.IsNullOrWhiteSpace(note) ? "acknowledged" : "acknowledged: " + note.Trim()), cancellationToken);

    public Task<IncidentActionResult> SnoozeAsync(string id, TimeSpan span, string actor, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + span;
        return TransitionAsync(id, [IncidentStatuses.Open, IncidentStatuses.Acknowledged, IncidentStatuses.Snoozed], IncidentStatuses.Snoozed, until.ToUnixTimeMilliseconds(),
            new TimelineWrite("snooze", actor, $"snoozed for {Spans.Format(span)}, until {Observability.Iso.Utc(until)}"), cancellationToken);
    }

    public Task<IncidentActionResult> ResolveAsync(string id, string note, string actor, CancellationToken cancellationToken) =>
        TransitionAsync(id, [IncidentStatuses.Open, IncidentStatuses.Acknowledged, IncidentStatuses.Snoozed], IncidentStatuses.Resolved, null,
            new TimelineWrite("resolve", actor, "resolved: " + note.Trim()), cancellationToken);

    /// <summary>Runs the runbook's rollback (the dispatcher's own pause or resume) and records it on the timeline.</summary>
    public async Task<IncidentActionResult> RollbackAsync(string id, string actor, CancellationToken cancellationToken)
    {
        if (await _store.GetIncidentAsync(id, cancellationToken) is not { } incident) return new(IncidentOutcome.NotFound, $"no incident {id}");
        if (incident.Status == IncidentStatuses.Resolved) return new(IncidentOutcome.Conflict, $"incident {id} is resolved");
        if (IncidentView.Rollback(incident) is not { } action)
        {
            return new(IncidentOutcome.Conflict, $"the runbook of {incident.Rule} has no rollback: add runbooks.{incident.Rule}.rollback (pause: <destination>)");
        }
        if (!config.Destinations.ContainsKey(action.Target)) return new(IncidentOutcome.Conflict, $"rollback {action}: no destination {action.Target} in destinations: any more");
        string done;
        switch (action.Kind)
        {
            case RunbookAction.Pause:
                var changed = await store.PauseDestinationAsync(action.Target, $"incident {id} ({incident.Rule}) rollback by {actor}", cancellationToken);
                done = changed ? $"paused {action.Target}" : $"{action.Target} was already paused";
                break;
            case RunbookAction.Resume:
                var released = await store.ResumeDestinationAsync(action.Target, cancellationToken);
                (services.GetService(typeof(Dispatch.Dispatcher)) as Dispatch.Dispatcher)?.Wake();
                done = $"resumed {action.Target}: {released} held deliver{(released == 1 ? "y" : "ies")} released";
                break;
            default:
                return new(IncidentOutcome.Conflict, $"rollback {action}: expected pause or resume");
        }
        await _store.AppendIncidentTimelineAsync(id, time.GetUtcNow().ToUnixTimeMilliseconds(), [new TimelineWrite("action", actor, $"rollback {action}: {done}")], cancellationToken);
        Observability.Log.IncidentAction(logger, id, "rollback " + action, actor);
        return new(IncidentOutcome.Done, done);
    }

    private async Task<IncidentActionResult> TransitionAsync(string id, IReadOnlyCollection<string> from, string to, long? snoozedUntil, TimelineWrite line,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (await _store.TransitionIncidentAsync(id, from, to, now, snoozedUntil, line, cancellationToken))
        {
            Observability.Log.IncidentAction(logger, id, line.Kind, line.Actor ?? "-");
            return new(IncidentOutcome.Done, line.Detail);
        }
        return await _store.GetIncidentAsync(id, cancellationToken) is { } incident
            ? new(IncidentOutcome.Conflict, $"incident {id} is {incident.Status}; {line.Kind} needs it {string.Join(" or ", from)}")
            : new(IncidentOutcome.NotFound, $"no incident {id}");
    }
}
