using System.Data.Common;
using System.Globalization;

namespace Junction.Storage;

/// <summary>An incident as stored. Revenue is JSON {"USD": minor units}; affected a JSON array of ids; runbook JSON.</summary>
public sealed record StoredIncident(
    string Id, string Rule, string Subject, string Status, string Severity, string Summary, long OpenedAt, long UpdatedAt,
    long? ResolvedAt, long? HealthySince, long? SnoozedUntil, string Revenue, string Affected, string Runbook);

public sealed record IncidentEvent(long Seq, string IncidentId, long At, string Kind, string? Actor, string Detail);

/// <summary>One timeline line to write: what happened, who did it (a token name, never a token), the detail.</summary>
public sealed record TimelineWrite(string Kind, string? Actor, string Detail);

/// <summary>A dead delivery for the DLQ signal, with its canonical event's body when it carried one.</summary>
public sealed record DeadDelivery(long Id, string Destination, string? EventId, string? EventBody);

// Incidents, their timelines and the alert signals' reads (src/Junction/Alerts). Test-mode events and
// test people never count: a test person is one all of whose events are test-mode (Accumulator), so
// leaving out test-mode events leaves out every event of a test person too.
public abstract partial class RelationalStore
{
    private const string IncidentColumns = "id, rule, subject, status, severity, summary, opened_at, updated_at, resolved_at, healthy_since, snoozed_until, revenue, affected, runbook";

    /// <summary>SQL true when the canonical event body in <paramref name="bodyColumn"/> is test-mode.</summary>
    protected virtual string IsTestEvent(string bodyColumn) => $"json_extract({bodyColumn}, '$.test_mode') = 1";

    /// <summary>SQL true when the person state in <paramref name="stateColumn"/> is a test person.</summary>
    protected virtual string IsTestPerson(string stateColumn) => $"json_extract({stateColumn}, '$.test') = 1";

    private string NotTestRaw(string rawAlias) =>
        $"NOT EXISTS (SELECT 1 FROM {Tables.CanonicalRaw} cr JOIN {Tables.CanonicalEvents} tce ON tce.id = cr.event_id WHERE cr.raw_id = {rawAlias}.id AND {IsTestEvent("tce.body")})";

    private string NotTestPerson(string personColumn) =>
        $"NOT EXISTS (SELECT 1 FROM {Tables.People} tp WHERE tp.person_id = {personColumn} AND {IsTestPerson("tp.state")})";

    public async Task<IReadOnlyList<StoredIncident>> ListIncidentsAsync(string? status, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {IncidentColumns} FROM {Tables.Incidents}" + (status is null ? "" : " WHERE status = @status")
            + " ORDER BY opened_at DESC, id DESC LIMIT @limit";
        if (status is not null) AddParameter(cmd, "status", status);
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, ReadIncident, cancellationToken);
    }

    /// <summary>Every incident not yet resolved (open, acknowledged, snoozed): at most one per (rule, subject).</summary>
    public async Task<IReadOnlyList<StoredIncident>> ListUnresolvedIncidentsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {IncidentColumns} FROM {Tables.Incidents} WHERE status <> 'resolved' ORDER BY opened_at, id";
        return await ReadAllAsync(cmd, ReadIncident, cancellationToken);
    }

    public async Task<StoredIncident?> GetIncidentAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {IncidentColumns} FROM {Tables.Incidents} WHERE id = @id";
        AddParameter(cmd, "id", id);
        return (await ReadAllAsync(cmd, ReadIncident, cancellationToken)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<IncidentEvent>> IncidentTimelineAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT seq, incident_id, at, kind, actor, detail FROM {Tables.IncidentTimeline} WHERE incident_id = @id ORDER BY seq";
        AddParameter(cmd, "id", id);
        return await ReadAllAsync(cmd, r => new IncidentEvent(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3), NullableString(r, 4), r.GetString(5)), cancellationToken);
    }

    /// <summary>
    /// Opens an incident with its first timeline lines, and clears the rule's pending row, in one
    /// transaction. False (nothing written) when its (rule, subject) already has an unresolved one:
    /// two evaluations that raced both saw none, and only the first opens it.
    /// </summary>
    public async Task<bool> InsertIncidentAsync(StoredIncident incident, IReadOnlyList<TimelineWrite> timeline, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = $"INSERT INTO {Tables.Incidents} ({IncidentColumns}) VALUES (@id, @rule, @subject, @status, @severity, @summary, @opened, @updated, "
                + "@resolved, @healthy, @snoozed, @revenue, @affected, @runbook) ON CONFLICT (rule, subject) WHERE status <> 'resolved' DO NOTHING";
            AddParameter(cmd, "id", incident.Id);
            AddParameter(cmd, "rule", incident.Rule);
            AddParameter(cmd, "subject", incident.Subject);
            AddParameter(cmd, "status", incident.Status);
            AddParameter(cmd, "severity", incident.Severity);
            AddParameter(cmd, "summary", incident.Summary);
            AddParameter(cmd, "opened", incident.OpenedAt);
            AddParameter(cmd, "updated", incident.UpdatedAt);
            AddParameter(cmd, "resolved", (object?)incident.ResolvedAt ?? DBNull.Value);
            AddParameter(cmd, "healthy", (object?)incident.HealthySince ?? DBNull.Value);
            AddParameter(cmd, "snoozed", (object?)incident.SnoozedUntil ?? DBNull.Value);
            AddParameter(cmd, "revenue", incident.Revenue);
            AddParameter(cmd, "affected", incident.Affected);
            AddParameter(cmd, "runbook", incident.Runbook);
            if (await cmd.ExecuteNonQueryAsync(cancellationToken) != 1) return false;
        }
        await using (var pending = connection.CreateCommand())
        {
            pending.Transaction = tx;
            pending.CommandText = $"DELETE FROM {Tables.AlertPending} WHERE rule = @rule AND subject = @subject";
            AddParameter(pending, "rule", incident.Rule);
            AddParameter(pending, "subject", incident.Subject);
            await pending.ExecuteNonQueryAsync(cancellationToken);
        }
        await AppendTimelineAsync(connection, tx, incident.Id, incident.OpenedAt, timeline, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// The evaluator's update of what the signal says now (summary, revenue, affected, healthy since);
    /// it leaves the status alone, so an operator's ack made meanwhile stands.
    /// </summary>
    public async Task UpdateIncidentSignalAsync(string id, string summary, string revenue, string affected, long? healthySince, long at,
        IReadOnlyList<TimelineWrite> timeline, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = $"UPDATE {Tables.Incidents} SET summary = @summary, revenue = @revenue, affected = @affected, healthy_since = @healthy, updated_at = @at "
                + "WHERE id = @id AND status <> 'resolved'";
            AddParameter(cmd, "summary", summary);
            AddParameter(cmd, "revenue", revenue);
            AddParameter(cmd, "affected", affected);
            AddParameter(cmd, "healthy", (object?)healthySince ?? DBNull.Value);
            AddParameter(cmd, "at", at);
            AddParameter(cmd, "id", id);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        await AppendTimelineAsync(connection, tx, id, at, timeline, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Moves an incident to <paramref name="to"/> when its status is one of <paramref name="from"/>, with
    /// its timeline line, in one transaction: false (nothing written) when it was in another status.
    /// </summary>
    public async Task<bool> TransitionIncidentAsync(string id, IReadOnlyCollection<string> from, string to, long at, long? snoozedUntil,
        TimelineWrite line, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            var names = from.Select((_, i) => "@f" + i.ToString(CultureInfo.InvariantCulture)).ToList();
            cmd.CommandText = $"UPDATE {Tables.Incidents} SET status = @to, updated_at = @at, snoozed_until = @snoozed, "
                + "resolved_at = CASE WHEN @to = 'resolved' THEN @at ELSE resolved_at END "
                + $"WHERE id = @id AND status IN ({string.Join(", ", names)})";
            AddParameter(cmd, "to", to);
            AddParameter(cmd, "at", at);
            AddParameter(cmd, "snoozed", (object?)snoozedUntil ?? DBNull.Value);
            AddParameter(cmd, "id", id);
            var i = 0;
            foreach (var status in from) AddParameter(cmd, "f" + (i++).ToString(CultureInfo.InvariantCulture), status);
            if (await cmd.ExecuteNonQueryAsync(cancellationToken) != 1) return false;
        }
        await AppendTimelineAsync(connection, tx, id, at, [line], cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    public async Task AppendIncidentTimelineAsync(string id, long at, IReadOnlyList<TimelineWrite> lines, CancellationToken cancellationToken)
    {
        if (lines.Count == 0) return;
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await AppendTimelineAsync(connection, tx, id, at, lines, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    private static async Task AppendTimelineAsync(DbConnection connection, DbTransaction tx, string id, long at, IReadOnlyList<TimelineWrite> lines, CancellationToken cancellationToken)
    {
        if (lines.Count == 0) return;
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"INSERT INTO {Tables.IncidentTimeline} (incident_id, at, kind, actor, detail) VALUES (@id, @at, @kind, @actor, @detail)";
        AddParameter(cmd, "id", id);
        AddParameter(cmd, "at", at);
        var kind = AddParameter(cmd, "kind", "");
        var actor = AddParameter(cmd, "actor", DBNull.Value);
        var detail = AddParameter(cmd, "detail", "");
        foreach (var line in lines)
        {
            kind.Value = line.Kind;
            actor.Value = (object?)line.Actor ?? DBNull.Value;
            detail.Value = line.Detail;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task<IReadOnlyDictionary<(string Rule, string Subject), long>> LoadAlertPendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT rule, subject, since FROM {Tables.AlertPending}";
        return (await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1), r.GetInt64(2)), cancellationToken)).ToDictionary(p => (p.Item1, p.Item2), p => p.Item3);
    }

    public async Task SetAlertPendingAsync(string rule, string subject, long since, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Tables.AlertPending} (rule, subject, since) VALUES (@rule, @subject, @since) ON CONFLICT (rule, subject) DO NOTHING";
        AddParameter(cmd, "rule", rule);
        AddParameter(cmd, "subject", subject);
        AddParameter(cmd, "since", since);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task DeleteAlertPendingAsync(string rule, string subject, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"DELETE FROM {Tables.AlertPending} WHERE rule = @rule AND subject = @subject";
        AddParameter(cmd, "rule", rule);
        AddParameter(cmd, "subject", subject);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    // ---- the signals' reads ----

    /// <summary>Live (not test-mode) canonical events of <paramref name="type"/> that occurred in [from, to).</summary>
    public async Task<long> CountLiveEventsAsync(string type, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {Tables.CanonicalEvents} ce WHERE ce.type = @type AND ce.occurred_at >= @from AND ce.occurred_at < @to AND NOT ({IsTestEvent("ce.body")})";
        AddParameter(cmd, "type", type);
        AddParameter(cmd, "from", from.ToUniversalTime());
        AddParameter(cmd, "to", to.ToUniversalTime());
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>The newest live events of a type in [from, to): id and canonical JSON, for the events affected and revenue at risk.</summary>
    public async Task<IReadOnlyList<(string Id, string Body)>> ListLiveEventsAsync(string type, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT ce.id, {JsonColumn("ce.body")} FROM {Tables.CanonicalEvents} ce WHERE ce.type = @type AND ce.occurred_at >= @from AND ce.occurred_at < @to "
            + $"AND NOT ({IsTestEvent("ce.body")}) ORDER BY ce.occurred_at DESC LIMIT @limit";
        AddParameter(cmd, "type", type);
        AddParameter(cmd, "from", from.ToUniversalTime());
        AddParameter(cmd, "to", to.ToUniversalTime());
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1)), cancellationToken);
    }

    /// <summary>Raw events accepted in [from, to) per source, test-mode ones left out.</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountLiveRawBySourceAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT r.source, COUNT(*) FROM {Tables.RawEvents} r WHERE r.received_at >= @from AND r.received_at < @to AND {NotTestRaw("r")} GROUP BY r.source";
        AddParameter(cmd, "from", from.ToUniversalTime());
        AddParameter(cmd, "to", to.ToUniversalTime());
        return (await ReadAllAsync(cmd, r => (r.GetString(0), r.GetInt64(1)), cancellationToken)).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
    }

    /// <summary>When a source's newest live raw events arrived, newest first (its source index, read backwards).</summary>
    public async Task<IReadOnlyList<DateTimeOffset>> RecentLiveRawTimesAsync(string source, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT r.received_at FROM {Tables.RawEvents} r WHERE r.source = @source AND {NotTestRaw("r")} ORDER BY r.seq DESC LIMIT @limit";
        AddParameter(cmd, "source", source);
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, r => r.GetFieldValue<DateTimeOffset>(0), cancellationToken);
    }

    /// <summary>State deliveries to <paramref name="destinations"/> that succeeded in [fromMs, toMs), test people left out.</summary>
    public async Task<long> CountSucceededStateDeliveriesAsync(IReadOnlyList<string> destinations, long fromMs, long toMs, CancellationToken cancellationToken)
    {
        if (destinations.Count == 0) return 0;
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        var names = destinations.Select((_, i) => "@d" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        cmd.CommandText = $"SELECT COUNT(*) FROM {Tables.Deliveries} d WHERE d.state = 'succeeded' AND d.completed_at >= @from AND d.completed_at < @to "
            + $"AND d.kind = 'state' AND d.destination IN ({string.Join(", ", names)}) AND {NotTestPerson("d.person_id")}";
        AddParameter(cmd, "from", fromMs);
        AddParameter(cmd, "to", toMs);
        for (var i = 0; i < destinations.Count; i++) AddParameter(cmd, "d" + i.ToString(CultureInfo.InvariantCulture), destinations[i]);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>Deliveries that went dead since <paramref name="fromMs"/> and are still dead, test people left out, with their event.</summary>
    public async Task<IReadOnlyList<DeadDelivery>> DeadSinceAsync(long fromMs, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT d.id, d.destination, d.event_id, {JsonColumn("ce.body")} FROM {Tables.Deliveries} d LEFT JOIN {Tables.CanonicalEvents} ce ON ce.id = d.event_id "
            + $"WHERE d.state = 'dead' AND d.completed_at >= @from AND {NotTestPerson("d.person_id")} ORDER BY d.completed_at DESC LIMIT @limit";
        AddParameter(cmd, "from", fromMs);
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, r => new DeadDelivery(r.GetInt64(0), r.GetString(1), NullableString(r, 2), NullableString(r, 3)), cancellationToken);
    }

    private static StoredIncident ReadIncident(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt64(6), r.GetInt64(7),
        r.IsDBNull(8) ? null : r.GetInt64(8), r.IsDBNull(9) ? null : r.GetInt64(9), r.IsDBNull(10) ? null : r.GetInt64(10),
        r.GetString(11), r.GetString(12), r.GetString(13));
}
