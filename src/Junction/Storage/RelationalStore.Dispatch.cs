using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Junction.Dispatch;

namespace Junction.Storage;

// The delivery outbox. Claiming follows Hangfire.PostgreSql's queue: one UPDATE over a sub-select
// that locks with FOR UPDATE SKIP LOCKED (PostgreSQL) and RETURNING, plus a lease (owner, expiry)
// that every acknowledgement must still hold. SQLite has one writer: the write gate serializes
// claims, so the same statement without the lock clause is enough there.
public abstract partial class RelationalStore
{
    /// <summary>Row locking for the claim sub-select; empty where the engine has one writer.</summary>
    protected virtual string SkipLocked => "";

    private const string OpenStates = "('pending', 'in_flight', 'held')";
    private const string DeliveryColumns =
        "id, destination, person_id, kind, event_id, state, attempts, created_at, next_attempt_at, first_attempt_at, completed_at, "
        + "last_error, last_status, dead_reason, request, trace_id, replayed_at, payload";

    private static string PausedCheck(string destination) =>
        $"EXISTS (SELECT 1 FROM {Tables.DestinationControl} c WHERE c.destination = {destination} AND c.paused = 1)";

    private long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<int> EnqueueDeliveriesAsync(IReadOnlyList<DeliveryDraft> drafts, CancellationToken cancellationToken)
    {
        if (drafts.Count == 0) return 0;
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var inserted = await InsertDeliveryDraftsAsync(connection, tx, drafts, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return inserted;
    }

    /// <summary>
    /// Writes drafts inside the caller's transaction (the projector commits them with the person state).
    /// An event draft is inserted once per (destination, event id); a paused destination's drafts start held.
    /// Returns how many rows were inserted.
    /// </summary>
    protected internal async Task<int> InsertDeliveryDraftsAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<DeliveryDraft> drafts,
        CancellationToken cancellationToken)
    {
        foreach (var d in drafts) Validate(d);
        var now = NowMs;
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText =
            $"""
            INSERT INTO {Tables.Deliveries} (destination, person_id, kind, event_id, payload, trace_id, state, attempts, created_at, next_attempt_at)
            SELECT @destination, @person_id, @kind, @event_id, @payload, @trace_id,
                   CASE WHEN {PausedCheck("@destination")} THEN 'held' ELSE 'pending' END, 0, @now, @now
            WHERE 1 = 1
            ON CONFLICT (destination, event_id) WHERE event_id IS NOT NULL DO NOTHING
            """;
        var pDestination = Typed(cmd, "destination", DbType.String);
        var pPerson = Typed(cmd, "person_id", DbType.String);
        var pKind = Typed(cmd, "kind", DbType.String);
        var pEvent = Typed(cmd, "event_id", DbType.String);
        var pPayload = Typed(cmd, "payload", DbType.String);
        var pTrace = Typed(cmd, "trace_id", DbType.String);
        Typed(cmd, "now", DbType.Int64, now);
        var inserted = 0;
        foreach (var d in drafts)
        {
            pDestination.Value = d.Destination;
            pPerson.Value = d.PersonId;
            pKind.Value = d.Kind;
            // An erasure's deletion is keyed by the erasure id: one per destination, however often it is queued.
            pEvent.Value = d.Kind is DeliveryKinds.Event or DeliveryKinds.Erase ? d.EventId! : DBNull.Value;
            pPayload.Value = d.Payload;
            pTrace.Value = (object?)d.TraceId ?? DBNull.Value;
            inserted += await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return inserted;
    }

    private static void Validate(DeliveryDraft d)
    {
        if (string.IsNullOrEmpty(d.Destination)) throw new ArgumentException("delivery draft: destination is empty");
        if (string.IsNullOrEmpty(d.PersonId)) throw new ArgumentException($"delivery draft for {d.Destination}: person_id is empty");
        if (d.Kind is not (DeliveryKinds.State or DeliveryKinds.Event or DeliveryKinds.Erase))
        {
            throw new ArgumentException($"delivery draft for {d.Destination}: kind must be state, event or erase; got '{d.Kind}'");
        }
        if (d.Kind is DeliveryKinds.Event or DeliveryKinds.Erase && string.IsNullOrEmpty(d.EventId))
        {
            throw new ArgumentException($"delivery draft for {d.Destination}: an {d.Kind} draft needs event_id");
        }
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> due tasks of one destination under a lease: only the
    /// oldest open task of each person is claimable (per-person order), expired leases are taken
    /// over, and a state task is coalesced with the newer state tasks queued right behind it (the
    /// newest desired state is sent; the older ones become superseded).
    /// </summary>
    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimDeliveriesAsync(string destination, string owner, int limit, TimeSpan lease,
        CancellationToken cancellationToken)
    {
        var now = NowMs;
        var until = now + (long)lease.TotalMilliseconds;
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        // A claim or a completion lost to a power cut only means the task is sent again (at least once).
        await RelaxDurabilityAsync(connection, cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);

        var rows = new List<ClaimedDelivery>();
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            // 'held' counts as due while its destination is not paused: on PostgreSQL a completion or a
            // draft whose statement saw the pause can commit after the resume's UPDATE held → pending
            // ran (read committed), and would otherwise stay held until the next resume.
            cmd.CommandText =
                $"""
                UPDATE {Tables.Deliveries} SET state = 'in_flight', lease_owner = @owner, lease_until = @until,
                    attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, @now)
                WHERE id IN (
                    SELECT d.id FROM {Tables.Deliveries} d
                    WHERE d.destination = @destination
                      AND ((d.state IN ('pending', 'held') AND d.next_attempt_at <= @now) OR (d.state = 'in_flight' AND d.lease_until < @now))
                      AND NOT EXISTS (SELECT 1 FROM {Tables.Deliveries} e
                                      WHERE e.destination = d.destination AND e.person_id = d.person_id AND e.id < d.id AND e.state IN {OpenStates})
                      AND NOT {PausedCheck("d.destination")}
                    ORDER BY d.next_attempt_at, d.id
                    LIMIT @limit {SkipLocked})
                RETURNING id, person_id, kind, event_id, payload, trace_id, attempts, first_attempt_at
                """;
            Typed(cmd, "owner", DbType.String, owner);
            Typed(cmd, "until", DbType.Int64, until);
            Typed(cmd, "now", DbType.Int64, now);
            Typed(cmd, "destination", DbType.String, destination);
            Typed(cmd, "limit", DbType.Int64, (long)limit);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new ClaimedDelivery(reader.GetInt64(0), destination, reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                    (int)reader.GetInt64(6), reader.GetInt64(7), null));
            }
        }

        var result = new List<ClaimedDelivery>(rows.Count);
        foreach (var row in rows.OrderBy(r => r.Id))
        {
            if (row.Kind == DeliveryKinds.Erase)
            {
                await using var key = connection.CreateCommand();
                key.Transaction = tx;
                key.CommandText = $"SELECT seal_key FROM {Tables.Erasures} WHERE id = @id";
                Typed(key, "id", DbType.String, row.EventId);
                result.Add(row with { SealKey = await key.ExecuteScalarAsync(cancellationToken) as string });
                continue;
            }
            if (row.Kind != DeliveryKinds.State)
            {
                result.Add(row);
                continue;
            }
            var claimed = await CoalesceAsync(connection, tx, row, owner, until, now, cancellationToken);
            await using var synced = connection.CreateCommand();
            synced.Transaction = tx;
            synced.CommandText = $"SELECT desired FROM {Tables.DestinationSync} WHERE destination = @destination AND person_id = @person";
            Typed(synced, "destination", DbType.String, destination);
            Typed(synced, "person", DbType.String, row.PersonId);
            result.Add(claimed with { LastSynced = await synced.ExecuteScalarAsync(cancellationToken) as string });
        }
        await tx.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Swaps a claimed state task for the newest state task queued before the person's next event task.</summary>
    private static async Task<ClaimedDelivery> CoalesceAsync(DbConnection connection, DbTransaction tx, ClaimedDelivery row, string owner, long until, long now,
        CancellationToken cancellationToken)
    {
        long? newest;
        await using (var find = connection.CreateCommand())
        {
            find.Transaction = tx;
            find.CommandText =
                $"""
                SELECT MAX(s.id) FROM {Tables.Deliveries} s
                WHERE s.destination = @destination AND s.person_id = @person AND s.kind = 'state' AND s.state = 'pending' AND s.id > @id
                  AND NOT EXISTS (SELECT 1 FROM {Tables.Deliveries} e
                                  WHERE e.destination = s.destination AND e.person_id = s.person_id AND e.kind <> 'state'
                                    AND e.id > @id AND e.id < s.id AND e.state IN {OpenStates})
                """;
            Typed(find, "destination", DbType.String, row.Destination);
            Typed(find, "person", DbType.String, row.PersonId);
            Typed(find, "id", DbType.Int64, row.Id);
            newest = await find.ExecuteScalarAsync(cancellationToken) is { } v and not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : null;
        }
        if (newest is not { } m) return row;

        await using (var supersede = connection.CreateCommand())
        {
            supersede.Transaction = tx;
            supersede.CommandText =
                $"""
                UPDATE {Tables.Deliveries} SET state = 'superseded', completed_at = @now, lease_owner = NULL, lease_until = NULL
                WHERE destination = @destination AND person_id = @person AND kind = 'state' AND id >= @id AND id < @m
                  AND state IN ('pending', 'in_flight')
                """;
            Typed(supersede, "now", DbType.Int64, now);
            Typed(supersede, "destination", DbType.String, row.Destination);
            Typed(supersede, "person", DbType.String, row.PersonId);
            Typed(supersede, "id", DbType.Int64, row.Id);
            Typed(supersede, "m", DbType.Int64, m);
            await supersede.ExecuteNonQueryAsync(cancellationToken);
        }

        // The newest task carries on the attempt count and retry window of the one it replaces.
        await using var take = connection.CreateCommand();
        take.Transaction = tx;
        take.CommandText =
            $"""
            UPDATE {Tables.Deliveries} SET state = 'in_flight', lease_owner = @owner, lease_until = @until, attempts = @attempts, first_attempt_at = @first
            WHERE id = @m RETURNING payload, trace_id
            """;
        Typed(take, "owner", DbType.String, owner);
        Typed(take, "until", DbType.Int64, until);
        Typed(take, "attempts", DbType.Int64, (long)row.Attempt);
        Typed(take, "first", DbType.Int64, row.FirstAttemptAt);
        Typed(take, "m", DbType.Int64, m);
        await using var reader = await take.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) throw new InvalidOperationException($"delivery {m} vanished while it was being claimed");
        return row with { Id = m, Payload = reader.GetString(0), TraceId = reader.IsDBNull(1) ? row.TraceId : reader.GetString(1) };
    }

    /// <summary>Extends the lease of tasks this owner still holds (a heartbeat for slow calls). Returns how many were extended.</summary>
    public async Task<int> RenewLeasesAsync(IReadOnlyList<long> ids, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (ids.Count == 0) return 0;
        var now = NowMs;
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"UPDATE {Tables.Deliveries} SET lease_until = @until WHERE state = 'in_flight' AND lease_owner = @owner "
            + $"AND lease_until >= @now AND id IN ({InList(cmd, "i", ids)})";
        Typed(cmd, "until", DbType.Int64, now + (long)lease.TotalMilliseconds);
        Typed(cmd, "owner", DbType.String, owner);
        Typed(cmd, "now", DbType.Int64, now);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Gives claimed tasks back unattempted (a batch that will not be sent by this node: its destination
    /// was paused, or the node is stopping): pending again (held if paused), the claim's attempt uncounted,
    /// no attempt recorded. Only tasks this owner still holds.
    /// </summary>
    public async Task<int> ReleaseDeliveriesAsync(IReadOnlyList<long> ids, string owner, CancellationToken cancellationToken)
    {
        if (ids.Count == 0) return 0;
        var now = NowMs;
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText =
            $"""
            UPDATE {Tables.Deliveries} SET
                state = CASE WHEN {PausedCheck(Tables.Deliveries + ".destination")} THEN 'held' ELSE 'pending' END,
                attempts = attempts - 1,
                first_attempt_at = CASE WHEN attempts = 1 THEN NULL ELSE first_attempt_at END,
                next_attempt_at = @now, lease_owner = NULL, lease_until = NULL
            WHERE state = 'in_flight' AND lease_owner = @owner AND lease_until >= @now AND id IN ({InList(cmd, "i", ids)})
            """;
        Typed(cmd, "owner", DbType.String, owner);
        Typed(cmd, "now", DbType.Int64, now);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records an attempt and moves the task on, only while <see cref="DeliveryCompletion.LeaseOwner"/>
    /// still holds an unexpired lease; false when the lease was lost (another worker owns the task now).
    /// </summary>
    public async Task<bool> CompleteDeliveryAsync(DeliveryCompletion completion, CancellationToken cancellationToken) =>
        (await CompleteDeliveriesAsync([completion], cancellationToken))[0];

    /// <summary>Several completions in one transaction (the dispatcher's group commit); one result each, in order.</summary>
    public async Task<IReadOnlyList<bool>> CompleteDeliveriesAsync(IReadOnlyList<DeliveryCompletion> completions, CancellationToken cancellationToken)
    {
        foreach (var c in completions)
        {
            if (c.State is not (DeliveryStates.Pending or DeliveryStates.Succeeded or DeliveryStates.Dead))
            {
                throw new ArgumentException($"a claimed task ends pending, succeeded or dead; got '{c.State}'");
            }
        }
        var now = NowMs;
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await RelaxDurabilityAsync(connection, cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var results = new bool[completions.Count];
        var stats = new Dictionary<(string Metric, string Destination), long>();
        for (var i = 0; i < completions.Count; i++)
        {
            if (await CompleteOneAsync(connection, tx, completions[i], now, cancellationToken) is not { } destination) continue;
            results[i] = true;
            // What the dashboard charts per destination and hour: sends that succeeded, attempts that failed, tasks gone dead.
            var c = completions[i];
            var metric = c.State switch { DeliveryStates.Succeeded => "delivered", DeliveryStates.Dead => "dead", _ => c.CountAttempt ? "failed_attempt" : null };
            if (metric is not null) stats[(metric, destination)] = stats.GetValueOrDefault((metric, destination)) + 1;
        }
        if (stats.Count > 0)
        {
            var writes = new RowWrites(connection, tx);
            foreach (var ((metric, destination), n) in stats) AddStat(writes, now, metric, destination, n);
            await writes.ExecuteAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return results;
    }

    /// <summary>Completes one claimed task; its destination, or null when the lease was lost and nothing was written.</summary>
    private static async Task<string?> CompleteOneAsync(DbConnection connection, DbTransaction tx, DeliveryCompletion c, long now, CancellationToken cancellationToken)
    {
        string? destination = null, person = null;
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText =
                $"""
                UPDATE {Tables.Deliveries} SET
                    state = CASE WHEN @state = 'pending' AND {PausedCheck(Tables.Deliveries + ".destination")} THEN 'held' ELSE @state END,
                    attempts = attempts - @uncount,
                    next_attempt_at = COALESCE(@next, next_attempt_at),
                    lease_owner = NULL, lease_until = NULL,
                    completed_at = @completed,
                    last_error = @error, last_status = @status, dead_reason = @dead,
                    request = COALESCE(@request, request)
                WHERE id = @id AND state = 'in_flight' AND lease_owner = @owner AND lease_until >= @now
                RETURNING destination, person_id
                """;
            Typed(cmd, "state", DbType.String, c.State);
            Typed(cmd, "uncount", DbType.Int64, c.CountAttempt ? 0L : 1L);
            Typed(cmd, "next", DbType.Int64, c.NextAttemptAt);
            Typed(cmd, "completed", DbType.Int64, c.State == DeliveryStates.Pending ? null : now);
            Typed(cmd, "error", DbType.String, c.Error);
            Typed(cmd, "status", DbType.Int64, c.Status is { } s ? (long)s : null);
            Typed(cmd, "dead", DbType.String, c.DeadReason);
            Typed(cmd, "request", DbType.String, c.Request);
            Typed(cmd, "id", DbType.Int64, c.Id);
            Typed(cmd, "owner", DbType.String, c.LeaseOwner);
            Typed(cmd, "now", DbType.Int64, now);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                destination = reader.GetString(0);
                person = reader.GetString(1);
            }
        }
        // Lease lost: the UPDATE matched nothing, so nothing was written for this one.
        if (destination is null) return null;

        await using (var attempt = connection.CreateCommand())
        {
            attempt.Transaction = tx;
            attempt.CommandText = $"INSERT INTO {Tables.DeliveryAttempts} (delivery_id, attempt, started_at, duration_ms, outcome, status, error) "
                + "VALUES (@id, @attempt, @started, @duration, @outcome, @status, @error)";
            Typed(attempt, "id", DbType.Int64, c.Id);
            Typed(attempt, "attempt", DbType.Int64, (long)c.Attempt.Attempt);
            Typed(attempt, "started", DbType.Int64, c.Attempt.StartedAt);
            Typed(attempt, "duration", DbType.Int64, c.Attempt.DurationMs);
            Typed(attempt, "outcome", DbType.String, c.Attempt.Outcome);
            Typed(attempt, "status", DbType.Int64, c.Attempt.Status is { } s ? (long)s : null);
            Typed(attempt, "error", DbType.String, c.Attempt.Error);
            await attempt.ExecuteNonQueryAsync(cancellationToken);
        }

        if (c.SyncedDesired is not null && c.State == DeliveryStates.Succeeded)
        {
            await using var sync = connection.CreateCommand();
            sync.Transaction = tx;
            sync.CommandText = $"INSERT INTO {Tables.DestinationSync} (destination, person_id, desired, synced_at) VALUES (@d, @p, @desired, @now) "
                + "ON CONFLICT (destination, person_id) DO UPDATE SET desired = excluded.desired, synced_at = excluded.synced_at";
            Typed(sync, "d", DbType.String, destination);
            Typed(sync, "p", DbType.String, person);
            Typed(sync, "desired", DbType.String, c.SyncedDesired);
            Typed(sync, "now", DbType.Int64, now);
            await sync.ExecuteNonQueryAsync(cancellationToken);
        }
        return destination;
    }

    public async Task<string?> GetSyncedAsync(string destination, string personId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT desired FROM {Tables.DestinationSync} WHERE destination = @d AND person_id = @p";
        Typed(cmd, "d", DbType.String, destination);
        Typed(cmd, "p", DbType.String, personId);
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<DeliveryPage> ListDeliveriesAsync(DeliveryQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {DeliveryColumns} FROM {Tables.Deliveries} WHERE id > @after");
        Typed(cmd, "after", DbType.Int64, query.After);
        if (query.Destination is not null) { sql.Append(" AND destination = @destination"); Typed(cmd, "destination", DbType.String, query.Destination); }
        if (query.State is not null) { sql.Append(" AND state = @state"); Typed(cmd, "state", DbType.String, query.State); }
        if (query.PersonId is not null) { sql.Append(" AND person_id = @person"); Typed(cmd, "person", DbType.String, query.PersonId); }
        sql.Append(" ORDER BY id LIMIT @limit");
        Typed(cmd, "limit", DbType.Int64, (long)query.Limit);
        cmd.CommandText = sql.ToString();
        var items = await ReadAllAsync(cmd, ReadDelivery, cancellationToken);
        return new DeliveryPage(items, items.Count == query.Limit ? items[^1].Id : null);
    }

    public async Task<DeliveryRow?> GetDeliveryAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {DeliveryColumns} FROM {Tables.Deliveries} WHERE id = @id";
        Typed(cmd, "id", DbType.Int64, id);
        return (await ReadAllAsync(cmd, ReadDelivery, cancellationToken)).FirstOrDefault();
    }

    private static DeliveryRow ReadDelivery(DbDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5),
        (int)r.GetInt64(6), r.GetInt64(7), r.GetInt64(8), r.IsDBNull(9) ? null : r.GetInt64(9), r.IsDBNull(10) ? null : r.GetInt64(10),
        r.IsDBNull(11) ? null : r.GetString(11), r.IsDBNull(12) ? null : (int)r.GetInt64(12), r.IsDBNull(13) ? null : r.GetString(13),
        r.IsDBNull(14) ? null : r.GetString(14), r.IsDBNull(15) ? null : r.GetString(15), r.IsDBNull(16) ? null : r.GetInt64(16), r.GetString(17));

    public async Task<IReadOnlyDictionary<long, IReadOnlyList<DeliveryAttemptRecord>>> ListDeliveryAttemptsAsync(IReadOnlyList<long> ids,
        CancellationToken cancellationToken)
    {
        var result = new Dictionary<long, IReadOnlyList<DeliveryAttemptRecord>>();
        if (ids.Count == 0) return result;
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT delivery_id, attempt, started_at, duration_ms, outcome, status, error "
            + $"FROM {Tables.DeliveryAttempts} WHERE delivery_id IN ({InList(cmd, "i", ids)}) ORDER BY seq";
        var rows = await ReadAllAsync(cmd, r => (Id: r.GetInt64(0), Attempt: new DeliveryAttemptRecord((int)r.GetInt64(1), r.GetInt64(2), r.GetInt64(3),
            r.GetString(4), r.IsDBNull(5) ? null : (int)r.GetInt64(5), r.IsDBNull(6) ? null : r.GetString(6))), cancellationToken);
        foreach (var group in rows.GroupBy(x => x.Id)) result[group.Key] = group.Select(x => x.Attempt).ToList();
        return result;
    }

    /// <summary>
    /// Puts dead tasks back in the queue (held if the destination is paused), with a fresh retry
    /// window. Only dead tasks move, so replaying a task that is queued or delivered does nothing. A
    /// dead state task whose person has a newer live state task is superseded instead: sending the
    /// old desired state would undo the newer one. Returns how many were requeued.
    /// </summary>
    public async Task<int> ReplayDeadAsync(ReplayFilter filter, CancellationToken cancellationToken)
    {
        var now = NowMs;
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var stale = connection.CreateCommand())
        {
            stale.Transaction = tx;
            stale.CommandText =
                $"""
                UPDATE {Tables.Deliveries} SET state = 'superseded'
                WHERE state = 'dead' AND kind = 'state' AND {ReplayWhere(stale, filter)}
                  AND EXISTS (SELECT 1 FROM {Tables.Deliveries} n
                              WHERE n.destination = {Tables.Deliveries}.destination AND n.person_id = {Tables.Deliveries}.person_id
                                AND n.kind = 'state' AND n.id > {Tables.Deliveries}.id AND n.state IN ('pending', 'in_flight', 'held', 'succeeded'))
                """;
            await stale.ExecuteNonQueryAsync(cancellationToken);
        }
        int replayed;
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText =
                $"""
                UPDATE {Tables.Deliveries} SET
                    state = CASE WHEN {PausedCheck(Tables.Deliveries + ".destination")} THEN 'held' ELSE 'pending' END,
                    attempts = 0, first_attempt_at = NULL, next_attempt_at = @now, replayed_at = @now, completed_at = NULL,
                    dead_reason = NULL, lease_owner = NULL, lease_until = NULL
                WHERE state = 'dead' AND {ReplayWhere(cmd, filter)}
                """;
            Typed(cmd, "now", DbType.Int64, now);
            replayed = await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return replayed;
    }

    private static string ReplayWhere(DbCommand cmd, ReplayFilter filter)
    {
        var where = new List<string>();
        if (filter.Ids is { } ids) where.Add(ids.Count == 0 ? "1 = 0" : $"id IN ({InList(cmd, "i", ids)})");
        if (filter.Destination is not null) { where.Add("destination = @f_destination"); Typed(cmd, "f_destination", DbType.String, filter.Destination); }
        if (filter.SinceMs is { } since) { where.Add("completed_at >= @f_since"); Typed(cmd, "f_since", DbType.Int64, since); }
        if (filter.PersonId is not null) { where.Add("person_id = @f_person"); Typed(cmd, "f_person", DbType.String, filter.PersonId); }
        return where.Count == 0 ? "1 = 1" : string.Join(" AND ", where);
    }

    /// <summary>Pauses a destination: its pending tasks become held, and new ones start held. True when it was not paused before.</summary>
    public async Task<bool> PauseDestinationAsync(string destination, string? reason, CancellationToken cancellationToken)
    {
        var now = NowMs;
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var was = await IsPausedAsync(connection, tx, destination, cancellationToken);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText =
                $"""
                INSERT INTO {Tables.DestinationControl} (destination, paused, paused_at, reason) VALUES (@d, 1, @now, @reason)
                ON CONFLICT (destination) DO UPDATE SET paused = 1,
                    paused_at = CASE WHEN {Tables.DestinationControl}.paused = 1 THEN {Tables.DestinationControl}.paused_at ELSE excluded.paused_at END,
                    reason = excluded.reason
                """;
            Typed(cmd, "d", DbType.String, destination);
            Typed(cmd, "now", DbType.Int64, now);
            Typed(cmd, "reason", DbType.String, reason);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var hold = connection.CreateCommand())
        {
            hold.Transaction = tx;
            hold.CommandText = $"UPDATE {Tables.Deliveries} SET state = 'held' WHERE destination = @d AND state = 'pending'";
            Typed(hold, "d", DbType.String, destination);
            await hold.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return !was;
    }

    /// <summary>Resumes a destination: its held tasks become pending again (claimed in per-person order). Returns how many were released.</summary>
    public async Task<int> ResumeDestinationAsync(string destination, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = $"UPDATE {Tables.DestinationControl} SET paused = 0, paused_at = NULL, reason = NULL WHERE destination = @d";
            Typed(cmd, "d", DbType.String, destination);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        int released;
        await using (var release = connection.CreateCommand())
        {
            release.Transaction = tx;
            release.CommandText = $"UPDATE {Tables.Deliveries} SET state = 'pending' WHERE destination = @d AND state = 'held'";
            Typed(release, "d", DbType.String, destination);
            released = await release.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return released;
    }

    private static async Task<bool> IsPausedAsync(DbConnection connection, DbTransaction tx, string destination, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"SELECT paused FROM {Tables.DestinationControl} WHERE destination = @d";
        Typed(cmd, "d", DbType.String, destination);
        return await cmd.ExecuteScalarAsync(cancellationToken) is { } v and not DBNull && Convert.ToInt64(v, CultureInfo.InvariantCulture) == 1;
    }

    public async Task<IReadOnlyList<DestinationControl>> ListDestinationControlAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT destination, paused, paused_at, reason FROM {Tables.DestinationControl}";
        return await ReadAllAsync(cmd, r => new DestinationControl(r.GetString(0), r.GetInt64(1) == 1,
            r.IsDBNull(2) ? null : r.GetInt64(2), r.IsDBNull(3) ? null : r.GetString(3)), cancellationToken);
    }

    public async Task<IReadOnlyList<DestinationBacklog>> CountOpenDeliveriesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT destination, state, COUNT(*) FROM {Tables.Deliveries} "
            + "WHERE state IN ('pending', 'held', 'in_flight', 'dead') GROUP BY destination, state";
        var rows = await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1), r.GetInt64(2)), cancellationToken);
        return rows.GroupBy(x => x.Item1, StringComparer.Ordinal).Select(g =>
        {
            long Count(string state) => g.Where(x => x.Item2 == state).Sum(x => x.Item3);
            return new DestinationBacklog(g.Key, Count(DeliveryStates.Pending), Count(DeliveryStates.Held), Count(DeliveryStates.InFlight), Count(DeliveryStates.Dead));
        }).ToList();
    }

    /// <summary>Unix ms when the destination's next pending task or expired lease becomes claimable; null when none is waiting.</summary>
    /// <summary>
    /// The due pending tasks (kind, payload) of the people whose tasks <paramref name="held"/> are waiting
    /// for a batch: per-person order keeps them queued behind those, so the dispatcher sends the batch
    /// early when one of them must not wait (a purchase, a state sync).
    /// </summary>
    public async Task<IReadOnlyList<(string Kind, string Payload)>> ListDueBehindAsync(string destination, IReadOnlyList<long> held,
        CancellationToken cancellationToken)
    {
        if (held.Count == 0) return [];
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText =
            $"""
            SELECT e.kind, e.payload FROM {Tables.Deliveries} e
            WHERE e.destination = @d AND e.state = 'pending' AND e.next_attempt_at <= @now
              AND e.person_id IN (SELECT h.person_id FROM {Tables.Deliveries} h WHERE h.id IN ({InList(cmd, "h", held)}))
            ORDER BY e.id
            LIMIT 500
            """;
        Typed(cmd, "d", DbType.String, destination);
        Typed(cmd, "now", DbType.Int64, NowMs);
        var rows = new List<(string, string)>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    public async Task<long?> NextDeliveryDueAsync(string destination, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT MIN(CASE WHEN state = 'pending' THEN next_attempt_at ELSE lease_until + 1 END) FROM {Tables.Deliveries} "
            + "WHERE destination = @d AND state IN ('pending', 'in_flight')";
        Typed(cmd, "d", DbType.String, destination);
        return await cmd.ExecuteScalarAsync(cancellationToken) is { } v and not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : null;
    }

    private static string InList(DbCommand cmd, string prefix, IReadOnlyList<long> ids)
    {
        var names = new string[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            names[i] = "@" + prefix + i.ToString(CultureInfo.InvariantCulture);
            Typed(cmd, names[i][1..], DbType.Int64, ids[i]);
        }
        return string.Join(", ", names);
    }

    /// <summary>A parameter with its type set, so a null still has one (PostgreSQL cannot infer it from a bare NULL).</summary>
    private static DbParameter Typed(DbCommand cmd, string name, DbType type, object? value = null)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = ParameterName(name);
        p.DbType = type;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
        return p;
    }
}
