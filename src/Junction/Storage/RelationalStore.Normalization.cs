using System.Data.Common;
using System.Globalization;

namespace Junction.Storage;

public abstract partial class RelationalStore
{
    /// <summary>How a JSON parameter is written into a jsonb column (PostgreSQL casts; SQLite keeps text).</summary>
    protected virtual string JsonParameter(string name) => "@" + name;

    /// <summary>How a JSON column is read back as text.</summary>
    protected virtual string JsonColumn(string column) => column;

    /// <summary>
    /// Takes the named role when no other node holds it: the engine's lock (<see cref="LockRoleAsync"/>),
    /// then a new epoch in <c>leases</c> that fences every later commit of the stage (<see cref="FenceAsync"/>).
    /// Null when another node holds the role.
    /// </summary>
    public async Task<Leadership?> TryLeadAsync(string role, CancellationToken cancellationToken)
    {
        var held = await LockRoleAsync(role, cancellationToken);
        if (held is null) return null;
        try
        {
            var owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
            var now = Time.GetUtcNow().ToUnixTimeMilliseconds();
            using var gate = await EnterWriteAsync(cancellationToken);
            await using var connection = await OpenAsync(cancellationToken);
            await using var cmd = connection.CreateCommand();
            // Taking the role waits for the row lock a committing predecessor holds, so the new
            // epoch is in place before this node reads any state, and the old one can commit no more.
            cmd.CommandText = $"INSERT INTO {Tables.Leases} (role, owner, epoch, acquired_at, renewed_at) VALUES (@role, @owner, 1, @now, @now) "
                + $"ON CONFLICT (role) DO UPDATE SET owner = excluded.owner, epoch = {Tables.Leases}.epoch + 1, acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at "
                + "RETURNING epoch";
            AddParameter(cmd, "role", role);
            AddParameter(cmd, "owner", owner);
            AddParameter(cmd, "now", now);
            var epoch = Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            return new Leadership(role, owner, epoch, held);
        }
        catch
        {
            await held.DisposeAsync();
            throw;
        }
    }

    /// <summary>The engine's exclusion for a role; null when another holder has it.</summary>
    protected virtual Task<IAsyncDisposable?> LockRoleAsync(string role, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable?>(new NoLock());

    private sealed class NoLock : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>
    /// The fence, run first in a stage's committing transaction: the lease row must still carry this
    /// holder's owner and epoch, else the transaction is rolled back. The UPDATE takes the row lock,
    /// so a successor's epoch bump waits for this commit, and this commit fails after that bump.
    /// A null lease (tests, tools that hold no role) is not fenced.
    /// </summary>
    protected async Task FenceAsync(DbConnection connection, DbTransaction tx, Leadership? lease, CancellationToken cancellationToken)
    {
        if (lease is null) return;
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"UPDATE {Tables.Leases} SET renewed_at = @now WHERE role = @role AND owner = @owner AND epoch = @epoch";
        AddParameter(cmd, "now", Time.GetUtcNow().ToUnixTimeMilliseconds());
        AddParameter(cmd, "role", lease.Role);
        AddParameter(cmd, "owner", lease.Owner);
        AddParameter(cmd, "epoch", lease.Epoch);
        if (await cmd.ExecuteNonQueryAsync(cancellationToken) != 1) throw new LeadershipLostException(lease.Role, lease.Epoch);
    }

    /// <summary>
    /// Run before a transaction inserts canonical events, so such transactions commit one after
    /// another in seq order and the projector's cursor can never pass a row that commits later.
    /// Null where the engine has one writer anyway (SQLite).
    /// </summary>
    protected virtual string? CanonicalWriteLockSql => null;

    public virtual bool IsDataRejection(DbException exception) => false;

    private const string RawColumns = "seq, id, source, dedup_key, received_at, trace_id, body_sha256, content_type, headers, body";

    private StoredRaw ReadStoredRaw(DbDataReader r) =>
        new(r.GetInt64(0), new RawEvent(
            new RawEventSummary(r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4), r.GetString(5), r.GetString(6)),
            r.GetString(7), r.GetString(8), (byte[])r.GetValue(9)));

    private string RawSelect => $"SELECT r.seq, r.id, r.source, r.dedup_key, r.received_at, r.trace_id, r.body_sha256, r.content_type, {JsonColumn("r.headers")}, r.body FROM {Tables.RawEvents} r";

    public async Task<IReadOnlyList<StoredRaw>> ReadRawAfterAsync(long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"{RawSelect} WHERE r.seq > @after ORDER BY r.seq LIMIT @limit";
        AddParameter(cmd, "after", afterSeq);
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, ReadStoredRaw, cancellationToken);
    }

    public async Task<StoredRaw?> GetStoredRawAsync(string rawId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"{RawSelect} WHERE r.id = @id";
        AddParameter(cmd, "id", rawId);
        return (await ReadAllAsync(cmd, ReadStoredRaw, cancellationToken)).FirstOrDefault();
    }

    public async Task<long> GetCursorAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT position FROM {Tables.Cursors} WHERE name = @name";
        AddParameter(cmd, "name", name);
        return await cmd.ExecuteScalarAsync(cancellationToken) is { } v and not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>
    /// Per-connection settings for a transaction that writes only derived data (normalization: its
    /// cursor commits with it, so losing it to a power cut only means redoing it).
    /// </summary>
    protected virtual Task RelaxDurabilityAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    private static readonly string[] EventColumns = ["id", "raw_id", "source", "type", "occurred_at", "body"];
    private static readonly string[] LinkColumns = ["raw_id", "event_id"];
    private static readonly string[] OutcomeColumns = ["raw_id", "raw_seq", "source", "provider_type", "status", "reason", "attempts", "next", "first", "count", "updated"];
    private static readonly string[] CursorColumns = ["name", "position"];
    private static readonly string[] DriftTypeColumns = ["s", "t", "n"];
    private static readonly string[] DriftPathColumns = ["s", "t", "p", "n", "first", "last", "sample"];
    private static readonly string[] DriftChangeColumns = ["s", "t", "p", "c", "at", "sample"];

    public async Task CommitNormalizationAsync(IReadOnlyList<NormalizationOutcome> outcomes, string? cursorName, long cursorPosition,
        DriftUpdate? drift, CancellationToken cancellationToken, Leadership? lease = null)
    {
        var now = Time.GetUtcNow();
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await RelaxDurabilityAsync(connection, cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await FenceAsync(connection, tx, lease, cancellationToken);
        if (CanonicalWriteLockSql is { } canonicalLock && outcomes.Any(o => o.Events.Count > 0))
        {
            await ExecuteAsync(connection, tx, canonicalLock, cancellationToken);
        }
        var writes = new RowWrites(connection, tx);

        var insertEvent = $"INSERT INTO {Tables.CanonicalEvents} (id, raw_id, source, type, occurred_at, body) "
            + $"VALUES (@id, @raw_id, @source, @type, @occurred_at, {JsonParameter("body")}) ON CONFLICT (id) DO NOTHING";
        var insertLink = $"INSERT INTO {Tables.CanonicalRaw} (raw_id, event_id) VALUES (@raw_id, @event_id) ON CONFLICT (raw_id, event_id) DO NOTHING";
        foreach (var outcome in outcomes)
        {
            foreach (var (e, json) in outcome.Events)
            {
                writes.Add(insertEvent, EventColumns, e.Id, e.RawId, e.Source, e.Type, e.OccurredAt, json);
                writes.Add(insertLink, LinkColumns, e.RawId, e.Id);
            }
        }

        var upsertOutcome =
            $"""
            INSERT INTO {Tables.Normalization} (raw_id, raw_seq, source, provider_type, status, reason, attempts, next_attempt_at, first_failed_at, event_count, updated_at)
            VALUES (@raw_id, @raw_seq, @source, @provider_type, @status, @reason, @attempts, @next, @first, @count, @updated)
            ON CONFLICT (raw_id) DO UPDATE SET provider_type = excluded.provider_type, status = excluded.status,
                reason = excluded.reason, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
                first_failed_at = excluded.first_failed_at, event_count = excluded.event_count, updated_at = excluded.updated_at
            """;
        foreach (var o in outcomes)
        {
            writes.Add(upsertOutcome, OutcomeColumns, o.RawId, o.RawSeq, o.Source, o.ProviderType, o.Status, o.Reason,
                (long)o.Attempts, o.NextAttemptAt, o.FirstFailedAt, (long)o.Events.Count, now);
        }

        if (cursorName is not null)
        {
            writes.Add($"INSERT INTO {Tables.Cursors} (name, position) VALUES (@name, @position) "
                + "ON CONFLICT (name) DO UPDATE SET position = excluded.position", CursorColumns, cursorName, cursorPosition);
        }

        if (drift is not null) AddDrift(writes, drift);
        await writes.ExecuteAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    private static void AddDrift(RowWrites writes, DriftUpdate drift)
    {
        var types = $"INSERT INTO {Tables.DriftTypes} (source, provider_type, events_seen) VALUES (@s, @t, @n) "
            + "ON CONFLICT (source, provider_type) DO UPDATE SET events_seen = excluded.events_seen";
        foreach (var row in drift.Types) writes.Add(types, DriftTypeColumns, row.Source, row.ProviderType, row.EventsSeen);

        var paths =
            $"""
            INSERT INTO {Tables.DriftPaths} (source, provider_type, path, seen_count, first_seen, last_seen, sample_raw_id)
            VALUES (@s, @t, @p, @n, @first, @last, @sample)
            ON CONFLICT (source, provider_type, path) DO UPDATE SET seen_count = excluded.seen_count, last_seen = excluded.last_seen
            """;
        foreach (var row in drift.Paths)
        {
            writes.Add(paths, DriftPathColumns, row.Source, row.ProviderType, row.Path, row.State.SeenCount,
                row.State.FirstSeen, row.State.LastSeen, row.State.SampleRawId);
        }

        var changes = $"INSERT INTO {Tables.DriftChanges} (source, provider_type, path, change, detected_at, sample_raw_id) "
            + "VALUES (@s, @t, @p, @c, @at, @sample)";
        foreach (var c in drift.Changes)
        {
            writes.Add(changes, DriftChangeColumns, c.Source, c.ProviderType, c.Path, c.Change, c.DetectedAt, c.SampleRawId);
        }
    }

    /// <summary>
    /// Parameterized row writes collected for one transaction and run together: as one
    /// <see cref="DbBatch"/> where the engine batches (PostgreSQL: one round trip for the whole
    /// commit), else one prepared command per statement, re-bound for each row (SQLite, in-process).
    /// </summary>
    private sealed class RowWrites(DbConnection connection, DbTransaction tx)
    {
        private readonly List<(string Sql, string[] Names, object?[] Values)> _rows = [];

        public void Add(string sql, string[] names, params object?[] values) => _rows.Add((sql, names, values));

        public async Task ExecuteAsync(CancellationToken cancellationToken)
        {
            if (_rows.Count == 0) return;
            if (connection.CanCreateBatch)
            {
                await using var batch = connection.CreateBatch();
                batch.Transaction = tx;
                foreach (var (sql, names, values) in _rows)
                {
                    var command = batch.CreateBatchCommand();
                    command.CommandText = sql;
                    for (var i = 0; i < names.Length; i++)
                    {
                        var p = command.CreateParameter();
                        p.ParameterName = ParameterName(names[i]);
                        p.Value = values[i] ?? DBNull.Value;
                        command.Parameters.Add(p);
                    }
                    batch.BatchCommands.Add(command);
                }
                await batch.ExecuteNonQueryAsync(cancellationToken);
                return;
            }

            var prepared = new Dictionary<string, (DbCommand Command, DbParameter[] Parameters)>(StringComparer.Ordinal);
            try
            {
                foreach (var (sql, names, values) in _rows)
                {
                    if (!prepared.TryGetValue(sql, out var entry))
                    {
                        var command = connection.CreateCommand();
                        command.Transaction = tx;
                        command.CommandText = sql;
                        entry = (command, names.Select(n => AddParameter(command, n, DBNull.Value)).ToArray());
                        prepared[sql] = entry;
                    }
                    for (var i = 0; i < values.Length; i++) entry.Parameters[i].Value = values[i] ?? DBNull.Value;
                    await entry.Command.ExecuteNonQueryAsync(cancellationToken);
                }
            }
            finally
            {
                foreach (var (command, _) in prepared.Values) await command.DisposeAsync();
            }
        }
    }

    public async Task<IReadOnlyList<StoredRaw>> DuePendingAsync(long nowMs, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"{RawSelect} JOIN {Tables.Normalization} n ON n.raw_id = r.id "
            + "WHERE n.status = @pending AND n.next_attempt_at <= @now ORDER BY n.next_attempt_at, r.seq LIMIT @limit";
        AddParameter(cmd, "pending", NormalizationStatus.Pending);
        AddParameter(cmd, "now", nowMs);
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, ReadStoredRaw, cancellationToken);
    }

    /// <summary>Unix milliseconds of the soonest pending attempt, or null when nothing is pending.</summary>
    public async Task<long?> NextPendingAtAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT MIN(next_attempt_at) FROM {Tables.Normalization} WHERE status = @pending";
        AddParameter(cmd, "pending", NormalizationStatus.Pending);
        return await cmd.ExecuteScalarAsync(cancellationToken) is { } v and not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : null;
    }

    public async Task SaveEnrichmentAsync(string rawId, string key, string json, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Tables.Enrichments} (raw_id, key, body, fetched_at) VALUES (@raw, @key, @body, @at) "
            + "ON CONFLICT (raw_id, key) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at";
        AddParameter(cmd, "raw", rawId);
        AddParameter(cmd, "key", key);
        AddParameter(cmd, "body", json);
        AddParameter(cmd, "at", Time.GetUtcNow());
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, string>> GetEnrichmentsAsync(string rawId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT key, body FROM {Tables.Enrichments} WHERE raw_id = @raw";
        AddParameter(cmd, "raw", rawId);
        var rows = await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1)), cancellationToken);
        return rows.ToDictionary(x => x.Item1, x => x.Item2, StringComparer.Ordinal);
    }

    private const string StateColumns = "n.raw_id, n.source, n.provider_type, n.status, n.reason, n.attempts, n.next_attempt_at, n.first_failed_at, n.event_count, n.updated_at";

    private static NormalizationState ReadState(DbDataReader r, int o = 0) => new(
        r.GetString(o), r.GetString(o + 1), r.IsDBNull(o + 2) ? null : r.GetString(o + 2), r.GetString(o + 3),
        r.IsDBNull(o + 4) ? null : r.GetString(o + 4), (int)r.GetInt64(o + 5),
        r.IsDBNull(o + 6) ? null : r.GetInt64(o + 6), r.IsDBNull(o + 7) ? null : r.GetInt64(o + 7),
        (int)r.GetInt64(o + 8), r.GetFieldValue<DateTimeOffset>(o + 9));

    public async Task<NormalizationState?> GetNormalizationAsync(string rawId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {StateColumns} FROM {Tables.Normalization} n WHERE n.raw_id = @raw";
        AddParameter(cmd, "raw", rawId);
        return (await ReadAllAsync(cmd, r => ReadState(r), cancellationToken)).FirstOrDefault();
    }

    public async Task<(IReadOnlyList<QuarantineItem> Items, string? Next)> ListQuarantineAsync(string? source, long after, int limit, CancellationToken cancellationToken) =>
        await ListByStatusAsync(NormalizationStatus.Quarantined, source, after, limit, cancellationToken);

    public async Task<(IReadOnlyList<QuarantineItem> Items, string? Next)> ListByStatusAsync(string status, string? source, long after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT n.raw_seq, {StateColumns}, r.received_at, r.dedup_key FROM {Tables.Normalization} n "
            + $"JOIN {Tables.RawEvents} r ON r.id = n.raw_id WHERE n.status = @status AND n.raw_seq > @after"
            + (source is null ? "" : " AND n.source = @source") + " ORDER BY n.raw_seq LIMIT @limit";
        AddParameter(cmd, "status", status);
        AddParameter(cmd, "after", after);
        if (source is not null) AddParameter(cmd, "source", source);
        AddParameter(cmd, "limit", (long)limit);
        var items = await ReadAllAsync(cmd, r => new QuarantineItem(r.GetInt64(0), ReadState(r, 1), r.GetFieldValue<DateTimeOffset>(11), r.GetString(12)), cancellationToken);
        return (items, items.Count == limit ? items[^1].RawSeq.ToString(CultureInfo.InvariantCulture) : null);
    }

    /// <summary>Puts quarantined events (all, a source's, or the given ids) back to pending, due now. Returns how many.</summary>
    public async Task<int> RequeueQuarantinedAsync(IReadOnlyList<string>? rawIds, string? source, long nowMs, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var total = 0;
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        var filter = rawIds is null ? (source is null ? "" : " AND source = @source") : " AND raw_id = @raw";
        cmd.CommandText = $"UPDATE {Tables.Normalization} SET status = @pending, attempts = 0, next_attempt_at = @now, first_failed_at = NULL "
            + $"WHERE status = @quarantined{filter}";
        AddParameter(cmd, "pending", NormalizationStatus.Pending);
        AddParameter(cmd, "quarantined", NormalizationStatus.Quarantined);
        AddParameter(cmd, "now", nowMs);
        if (source is not null && rawIds is null) AddParameter(cmd, "source", source);
        if (rawIds is null)
        {
            total = await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        else
        {
            var raw = AddParameter(cmd, "raw", "");
            foreach (var id in rawIds)
            {
                raw.Value = id;
                total += await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await tx.CommitAsync(cancellationToken);
        return total;
    }

    public async Task<CanonicalPage> ListCanonicalAsync(string? rawId, string? source, string? type, long after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        var where = new List<string> { "seq > @after" };
        AddParameter(cmd, "after", after);
        if (rawId is not null)
        {
            where.Add($"id IN (SELECT event_id FROM {Tables.CanonicalRaw} WHERE raw_id = @raw)");
            AddParameter(cmd, "raw", rawId);
        }
        if (source is not null) { where.Add("source = @source"); AddParameter(cmd, "source", source); }
        if (type is not null) { where.Add("type = @type"); AddParameter(cmd, "type", type); }
        cmd.CommandText = $"SELECT seq, {JsonColumn("body")} FROM {Tables.CanonicalEvents} WHERE {string.Join(" AND ", where)} ORDER BY seq LIMIT @limit";
        AddParameter(cmd, "limit", (long)limit);
        var rows = await ReadAllAsync(cmd, r => new CanonicalRow(r.GetInt64(0), r.GetString(1)), cancellationToken);
        return new CanonicalPage(rows, rows.Count == limit ? rows[^1].Seq.ToString(CultureInfo.InvariantCulture) : null);
    }

    public async Task<Dictionary<(string Source, string ProviderType), DriftTypeState>> LoadDriftAsync(CancellationToken cancellationToken)
    {
        var result = new Dictionary<(string, string), DriftTypeState>();
        await using var connection = await OpenAsync(cancellationToken);
        await using (var types = connection.CreateCommand())
        {
            types.CommandText = $"SELECT source, provider_type, events_seen FROM {Tables.DriftTypes}";
            foreach (var (s, t, n) in await ReadAllAsync(types, r => (r.GetString(0), r.GetString(1), r.GetInt64(2)), cancellationToken))
            {
                result[(s, t)] = new DriftTypeState { EventsSeen = n };
            }
        }
        await using var paths = connection.CreateCommand();
        paths.CommandText = $"SELECT source, provider_type, path, seen_count, first_seen, last_seen, sample_raw_id FROM {Tables.DriftPaths}";
        await using var reader = await paths.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!result.TryGetValue((reader.GetString(0), reader.GetString(1)), out var state)) continue;
            state.Paths[reader.GetString(2)] = new DriftPathState
            {
                SeenCount = reader.GetInt64(3),
                FirstSeen = reader.GetFieldValue<DateTimeOffset>(4),
                LastSeen = reader.GetFieldValue<DateTimeOffset>(5),
                SampleRawId = reader.GetString(6),
            };
        }
        return result;
    }

    public async Task<IReadOnlyList<DriftChange>> ListDriftChangesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT source, provider_type, path, change, detected_at, sample_raw_id FROM {Tables.DriftChanges} ORDER BY seq";
        return await ReadAllAsync(cmd, r => new DriftChange(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
            r.GetFieldValue<DateTimeOffset>(4), r.GetString(5)), cancellationToken);
    }

    protected static async Task<List<T>> ReadAllAsync<T>(DbCommand cmd, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var list = new List<T>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) list.Add(read(reader));
        return list;
    }
}
