using System.Data.Common;
using System.Globalization;
using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Storage;

/// <summary>A finding as stored, with its heal's outcome read from the heal delivery.</summary>
public sealed record StoredFinding(
    long Id, string AuditId, int Point, string Kind, string? PersonId, string? OrderId, string? Destination, string? Source,
    string Expected, string Observed, string HealAction, string HealStatus, long? HealDeliveryId, long? Amount, string? Currency,
    string Fingerprint, long At, string? AcceptedNote);

public sealed record StoredAudit(string Id, string Trigger, long StartedAt, long? FinishedAt, string Status, long WindowFrom, long WindowTo, string? Report, string? Error);

/// <summary>The heal deliveries an audit enqueues, written with its findings in one transaction.</summary>
public sealed record HealWrite(string Destination, string PersonId, string DesiredJson, string? BaselineJson, string TraceId);

// The audit stage's tables: audits, their findings, accepted findings and the schedule.
public abstract partial class RelationalStore
{
    /// <summary>Every surviving person's stored state (JSON), for the audit's ledger side.</summary>
    public async Task<IReadOnlyList<(string PersonId, string State)>> LoadPeopleStatesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT person_id, state FROM {Tables.People} WHERE merged_into IS NULL AND state IS NOT NULL ORDER BY person_id";
        return await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1)), cancellationToken);
    }

    /// <summary>Every opt-in in the log with the person it folded into (canonical JSON, for the consent it carried).</summary>
    public async Task<IReadOnlyList<(string EventId, string PersonId, string Json)>> LoadOptinsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT ce.id, pe.person_id, ce.body FROM {Tables.CanonicalEvents} ce JOIN {Tables.PersonEvents} pe ON pe.event_id = ce.id "
            + "WHERE ce.type = 'optin' ORDER BY ce.seq";
        return await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1), r.GetString(2)), cancellationToken);
    }

    /// <summary>
    /// Succeeded state deliveries of every person who had one since <paramref name="sinceMs"/>, all of
    /// theirs (the adds are told by the one before), in send order per destination and person.
    /// </summary>
    public async Task<IReadOnlyList<(string Destination, string PersonId, string Payload, long CompletedAt)>> LoadStateSendsAsync(long sinceMs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT destination, person_id, payload, completed_at FROM {Tables.Deliveries} "
            + "WHERE kind = 'state' AND state = 'succeeded' AND completed_at IS NOT NULL AND person_id IN "
            + $"(SELECT person_id FROM {Tables.Deliveries} WHERE kind = 'state' AND state = 'succeeded' AND completed_at >= @since) "
            + "ORDER BY destination, person_id, completed_at, id";
        AddParameter(cmd, "since", sinceMs);
        return await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)), cancellationToken);
    }

    public async Task InsertAuditAsync(string id, string trigger, long startedAt, long windowFrom, long windowTo, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Tables.Audits} (id, trigger_name, started_at, status, window_from, window_to) VALUES (@id, @t, @s, 'running', @f, @w)";
        AddParameter(cmd, "id", id);
        AddParameter(cmd, "t", trigger);
        AddParameter(cmd, "s", startedAt);
        AddParameter(cmd, "f", windowFrom);
        AddParameter(cmd, "w", windowTo);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Finishes an audit: its report, its findings, and (when healing) the re-sync deliveries, in one
    /// transaction. A (destination, person) that still has an open heal delivery from an earlier
    /// audit gets no second one: its findings point at the open one, so running twice heals once.
    /// </summary>
    public async Task CompleteAuditAsync(string id, long finishedAt, string status, string report, string? error,
        IReadOnlyList<AuditFinding> findings, IReadOnlyDictionary<(string Destination, string PersonId), HealWrite> heals,
        IReadOnlyDictionary<AuditFinding, string> healStatus, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);

        var deliveryIds = new Dictionary<(string, string), long>();
        foreach (var ((destination, personId), heal) in heals)
        {
            await using (var open = connection.CreateCommand())
            {
                open.Transaction = tx;
                open.CommandText = $"SELECT f.heal_delivery_id FROM {Tables.AuditFindings} f JOIN {Tables.Deliveries} d ON d.id = f.heal_delivery_id "
                    + $"WHERE f.destination = @d AND f.person_id = @p AND d.state IN {OpenStates} ORDER BY f.id DESC LIMIT 1";
                AddParameter(open, "d", destination);
                AddParameter(open, "p", personId);
                if (await open.ExecuteScalarAsync(cancellationToken) is { } existing and not DBNull)
                {
                    deliveryIds[(destination, personId)] = Convert.ToInt64(existing, CultureInfo.InvariantCulture);
                    continue;
                }
            }
            if (heal.BaselineJson is { } baseline)
            {
                await using var sync = connection.CreateCommand();
                sync.Transaction = tx;
                sync.CommandText = $"INSERT INTO {Tables.DestinationSync} (destination, person_id, desired, synced_at) VALUES (@d, @p, @desired, @now) "
                    + "ON CONFLICT (destination, person_id) DO UPDATE SET desired = excluded.desired, synced_at = excluded.synced_at";
                AddParameter(sync, "d", destination);
                AddParameter(sync, "p", personId);
                AddParameter(sync, "desired", baseline);
                AddParameter(sync, "now", finishedAt);
                await sync.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = $"INSERT INTO {Tables.Deliveries} (destination, person_id, kind, event_id, payload, trace_id, state, attempts, created_at, next_attempt_at) "
                + $"VALUES (@d, @p, '{DeliveryKinds.State}', NULL, @payload, @trace, CASE WHEN {PausedCheck("@d")} THEN 'held' ELSE 'pending' END, 0, @now, @now) RETURNING id";
            AddParameter(insert, "d", destination);
            AddParameter(insert, "p", personId);
            AddParameter(insert, "payload", heal.DesiredJson);
            AddParameter(insert, "trace", heal.TraceId);
            AddParameter(insert, "now", finishedAt);
            deliveryIds[(destination, personId)] = Convert.ToInt64(await insert.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = $"INSERT INTO {Tables.AuditFindings} (audit_id, point, kind, person_id, order_id, destination, source, expected, observed, "
                + "heal_action, heal_status, heal_delivery_id, amount, currency, fingerprint, at) "
                + "VALUES (@a, @point, @kind, @person, @order, @dest, @source, @expected, @observed, @action, @status, @delivery, @amount, @currency, @fp, @at)";
            var p = new[] { "a", "point", "kind", "person", "order", "dest", "source", "expected", "observed", "action", "status", "delivery", "amount", "currency", "fp", "at" }
                .ToDictionary(n => n, n => AddParameter(cmd, n, DBNull.Value), StringComparer.Ordinal);
            foreach (var f in findings)
            {
                long? delivery = f.HealAction == HealActions.Resync && f is { Destination: { } d, PersonId: { } person }
                    && deliveryIds.TryGetValue((d, person), out var deliveryId) ? deliveryId : null;
                p["a"].Value = id;
                p["point"].Value = (long)f.Point;
                p["kind"].Value = f.Kind;
                p["person"].Value = (object?)f.PersonId ?? DBNull.Value;
                p["order"].Value = (object?)f.OrderId ?? DBNull.Value;
                p["dest"].Value = (object?)f.Destination ?? DBNull.Value;
                p["source"].Value = (object?)f.Source ?? DBNull.Value;
                p["expected"].Value = f.Expected;
                p["observed"].Value = f.Observed;
                p["action"].Value = f.HealAction;
                p["status"].Value = healStatus.GetValueOrDefault(f, HealStatuses.ReportOnly);
                p["delivery"].Value = (object?)delivery ?? DBNull.Value;
                p["amount"].Value = (object?)f.Amount ?? DBNull.Value;
                p["currency"].Value = (object?)f.Currency ?? DBNull.Value;
                p["fp"].Value = f.Fingerprint;
                p["at"].Value = finishedAt;
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await using (var done = connection.CreateCommand())
        {
            done.Transaction = tx;
            done.CommandText = $"UPDATE {Tables.Audits} SET finished_at = @f, status = @s, report = @r, error = @e WHERE id = @id";
            AddParameter(done, "f", finishedAt);
            AddParameter(done, "s", status);
            AddParameter(done, "r", report);
            AddParameter(done, "e", (object?)error ?? DBNull.Value);
            AddParameter(done, "id", id);
            await done.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task FailAuditAsync(string id, long finishedAt, string error, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"UPDATE {Tables.Audits} SET finished_at = @f, status = 'failed', error = @e WHERE id = @id";
        AddParameter(cmd, "f", finishedAt);
        AddParameter(cmd, "e", error);
        AddParameter(cmd, "id", id);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<StoredAudit>> ListAuditsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {AuditColumns} FROM {Tables.Audits} ORDER BY started_at DESC, id DESC LIMIT @limit";
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, ReadAudit, cancellationToken);
    }

    public async Task<StoredAudit?> GetAuditAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {AuditColumns} FROM {Tables.Audits} WHERE id = @id";
        AddParameter(cmd, "id", id);
        return (await ReadAllAsync(cmd, ReadAudit, cancellationToken)).FirstOrDefault();
    }

    /// <summary>An audit's findings (or a person's, newest first), each heal's status as its delivery stands now.</summary>
    public async Task<IReadOnlyList<StoredFinding>> FindingsAsync(string? auditId, string? personId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        var where = auditId is not null ? "f.audit_id = @key" : "f.person_id = @key";
        cmd.CommandText = "SELECT f.id, f.audit_id, f.point, f.kind, f.person_id, f.order_id, f.destination, f.source, f.expected, f.observed, "
            + "f.heal_action, f.heal_status, f.heal_delivery_id, f.amount, f.currency, f.fingerprint, f.at, d.state, acc.note, oi.person_id "
            + $"FROM {Tables.AuditFindings} f LEFT JOIN {Tables.Deliveries} d ON d.id = f.heal_delivery_id "
            + $"LEFT JOIN {Tables.AuditAccepted} acc ON acc.finding_id = f.id "
            // A missed payment's backfill has no delivery: it is healed once someone in the ledger holds its order id.
            + $"LEFT JOIN {Tables.PersonIdentifiers} oi ON f.kind = 'missed_payment' AND f.heal_action = '{HealActions.Backfill}' "
            + "AND oi.type = 'order_id' AND oi.scope = f.source AND oi.value = f.order_id "
            + $"WHERE {where} ORDER BY f.point, f.id";
        AddParameter(cmd, "key", auditId ?? personId ?? "");
        return await ReadAllAsync(cmd, r =>
        {
            var planned = r.GetString(11);
            var delivery = r.IsDBNull(17) ? null : r.GetString(17);
            var status = delivery switch
            {
                null when planned == HealStatuses.Queued && !r.IsDBNull(19) => HealStatuses.Healed,
                null => planned,
                DeliveryStates.Succeeded or DeliveryStates.Superseded => HealStatuses.Healed,
                DeliveryStates.Dead => HealStatuses.Failed,
                _ => HealStatuses.Queued,
            };
            return new StoredFinding(r.GetInt64(0), r.GetString(1), r.GetInt32(2), r.GetString(3), NullableString(r, 4), NullableString(r, 5), NullableString(r, 6), NullableString(r, 7),
                r.GetString(8), r.GetString(9), r.GetString(10), status, r.IsDBNull(12) ? null : r.GetInt64(12),
                r.IsDBNull(13) ? null : r.GetInt64(13), NullableString(r, 14), r.GetString(15), r.GetInt64(16), NullableString(r, 18));
        }, cancellationToken);
    }

    /// <summary>False when no such finding.</summary>
    public async Task<bool> AcceptFindingAsync(long findingId, string note, string? actor, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Tables.AuditAccepted} (fingerprint, finding_id, note, actor, at) "
            + $"SELECT fingerprint, id, @note, @actor, @at FROM {Tables.AuditFindings} WHERE id = @id "
            + "ON CONFLICT (fingerprint) DO UPDATE SET finding_id = excluded.finding_id, note = excluded.note, actor = excluded.actor, at = excluded.at";
        AddParameter(cmd, "note", note);
        AddParameter(cmd, "actor", (object?)actor ?? DBNull.Value);
        AddParameter(cmd, "at", NowMs);
        AddParameter(cmd, "id", findingId);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlySet<string>> AcceptedFingerprintsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT fingerprint FROM {Tables.AuditAccepted}";
        return (await ReadAllAsync(cmd, r => r.GetString(0), cancellationToken)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Claims the scheduled audit of <paramref name="scheduleObject"/> when it is due and nobody holds it:
    /// one conditional UPDATE, so of several nodes exactly one wins. A run whose holder died (lease over) is
    /// claimable again, so a crash neither loses nor doubles a run. The first call creates the row, due one cadence later.
    /// </summary>
    public async Task<bool> TryClaimScheduledAuditAsync(string scheduleObject, string owner, long nowMs, long firstDueMs, long leaseMs, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using (var seed = connection.CreateCommand())
        {
            seed.CommandText = $"INSERT INTO {Tables.AuditSchedule} (object, next_due_at) VALUES (@o, @first) ON CONFLICT (object) DO NOTHING";
            AddParameter(seed, "o", scheduleObject);
            AddParameter(seed, "first", firstDueMs);
            await seed.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"UPDATE {Tables.AuditSchedule} SET lease_owner = @owner, lease_until = @until "
            + "WHERE object = @o AND next_due_at <= @now AND (lease_until IS NULL OR lease_until < @now)";
        AddParameter(cmd, "owner", owner);
        AddParameter(cmd, "until", nowMs + leaseMs);
        AddParameter(cmd, "o", scheduleObject);
        AddParameter(cmd, "now", nowMs);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Marks a claimed scheduled run done: next due a cadence later, lease released. Only the holder can.</summary>
    public async Task CompleteScheduledAuditAsync(string scheduleObject, string owner, long nextDueMs, string auditId, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"UPDATE {Tables.AuditSchedule} SET next_due_at = @next, lease_owner = NULL, lease_until = NULL, last_audit = @a "
            + "WHERE object = @o AND lease_owner = @owner";
        AddParameter(cmd, "next", nextDueMs);
        AddParameter(cmd, "a", auditId);
        AddParameter(cmd, "o", scheduleObject);
        AddParameter(cmd, "owner", owner);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string AuditColumns = "id, trigger_name, started_at, finished_at, status, window_from, window_to, report, error";

    private static StoredAudit ReadAudit(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt64(2), r.IsDBNull(3) ? null : r.GetInt64(3),
        r.GetString(4), r.GetInt64(5), r.GetInt64(6), NullableString(r, 7), NullableString(r, 8));
}
