using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace Junction.Storage.Postgres;

/// <summary>
/// PostgreSQL, for several nodes on one database. Appends go in one statement per batch (unnest)
/// under a transaction-scoped advisory lock: batches from all nodes commit one after another, so
/// seq order is commit order and a reader's cursor on seq can never pass a row that commits later.
/// Group commit keeps batches large, so the serialization costs little.
/// </summary>
public sealed class PostgresStore : RelationalStore
{
    private const long MigrationLockKey = 0x4A756E6374696F6E; // "Junction"
    public const long AppendLockKey = 0x4A756E6374696F6F;
    private readonly NpgsqlDataSource _dataSource;

    public PostgresStore(string connectionString, TimeProvider time) : base(time)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "junction";
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public override string Engine => "postgres";

    protected override DbConnection CreateConnection() => _dataSource.CreateConnection();

    protected override async Task<IAsyncDisposable?> LockMigrationsAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT pg_advisory_lock({MigrationLockKey})";
        await cmd.ExecuteNonQueryAsync(cancellationToken);
        return new Unlock(connection);
    }

    private sealed class Unlock(DbConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = $"SELECT pg_advisory_unlock({MigrationLockKey})";
            await cmd.ExecuteNonQueryAsync();
        }
    }

    protected override string InsertRawSql =>
        $"""
        INSERT INTO {Tables.RawEvents} (id, source, dedup_key, received_at, trace_id, content_type, headers, body, body_sha256)
        VALUES (@id, @source, @dedup_key, @received_at, @trace_id, @content_type, @headers::jsonb, @body, @body_sha256)
        ON CONFLICT (source, dedup_key) DO NOTHING
        """;

    protected override async Task SkipCommitWaitAsync(DbConnection connection, DbTransaction tx, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SET LOCAL synchronous_commit TO OFF";
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override string InsertRejectionSql =>
        $"INSERT INTO {Tables.Rejections} (source, reason, detail, received_at, headers) VALUES (@source, @reason, @detail, @received_at, @headers::jsonb)";

    protected override string HeadersAsText => "headers::text";

    protected override string SkipLocked => "FOR UPDATE SKIP LOCKED";

    protected override string Least => "LEAST";

    protected override string Greatest => "GREATEST";

    protected override string Floor(string expression) => $"FLOOR({expression})";

    protected override string JsonParameter(string name) => $"@{name}::jsonb";

    protected override string JsonColumn(string column) => column + "::text";

    protected override string IsTestEvent(string bodyColumn) => $"({bodyColumn}->>'test_mode') = 'true'";

    protected override string IsTestPerson(string stateColumn) => $"({stateColumn}::jsonb->>'test') = 'true'";

    /// <summary>Serializes every transaction that inserts canonical events (see <see cref="CanonicalWriteLockSql"/>).</summary>
    public const long CanonicalLockKey = 0x4A756E6374696F70;

    /// <summary>
    /// Transaction-scoped, like the append lock but its own key so normalization commits do not queue
    /// behind intake: canonical_events.seq is taken at insert, so without it two writers (the serving
    /// normalizer, its pending loop, a CLI backfill) could commit out of seq order.
    /// </summary>
    /// <summary>SQLSTATE class 22, data exception (e.g. 22P05: a NUL escape in a jsonb string).</summary>
    public override bool IsDataRejection(DbException exception) =>
        exception is PostgresException { SqlState: var state } && state.StartsWith("22", StringComparison.Ordinal);

    protected override string? CanonicalWriteLockSql => $"SELECT pg_advisory_xact_lock({CanonicalLockKey})";

    /// <summary>
    /// A session advisory lock on a connection of its own, held until the handle is disposed. If that
    /// connection drops, the server releases the lock and another node may take the role; the lease
    /// epoch (<see cref="RelationalStore.FenceAsync"/>) then refuses this node's commits.
    /// </summary>
    protected override async Task<IAsyncDisposable?> LockRoleAsync(string role, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtext(@role))", connection);
            cmd.Parameters.AddWithValue("role", "junction:" + role);
            if (await cmd.ExecuteScalarAsync(cancellationToken) is true) return new RoleLock(connection, "junction:" + role);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    /// <summary>
    /// Unlocks before the connection goes back to the pool: Npgsql resets a pooled session only when
    /// it is next used, so a lock left on an idle pooled connection would keep every node out.
    /// </summary>
    private sealed class RoleLock(NpgsqlConnection connection, string key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext(@role))", connection);
                cmd.Parameters.AddWithValue("role", key);
                await cmd.ExecuteScalarAsync();
            }
            catch (NpgsqlException)
            {
                // The connection is gone, and the lock with it.
            }
            catch (InvalidOperationException)
            {
                // Broken or closed connection: likewise.
            }
            await connection.DisposeAsync();
        }
    }

    public override async Task<IReadOnlyList<AppendOutcome>> AppendRawAsync(IReadOnlyList<RawEventDraft> batch, CancellationToken cancellationToken)
    {
        var sorted = batch.ToArray();

        await using var connection = (NpgsqlConnection)await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var appendLock = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({AppendLockKey})", connection, tx))
        {
            await appendLock.ExecuteNonQueryAsync(cancellationToken);
        }

        var inserted = new HashSet<string>(StringComparer.Ordinal);
        await using (var insert = new NpgsqlCommand(
            $"""
            INSERT INTO {Tables.RawEvents} (id, source, dedup_key, received_at, trace_id, content_type, headers, body, body_sha256)
            SELECT id, source, dedup_key, received_at, trace_id, content_type, headers::jsonb, body, body_sha256
            FROM unnest(@id, @source, @dedup_key, @received_at, @trace_id, @content_type, @headers, @body, @body_sha256)
                 AS t(id, source, dedup_key, received_at, trace_id, content_type, headers, body, body_sha256)
            ON CONFLICT (source, dedup_key) DO NOTHING
            RETURNING id
            """, connection, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter<string[]>("id", sorted.Select(d => d.Id).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter<string[]>("source", sorted.Select(d => d.Source).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter<string[]>("dedup_key", sorted.Select(d => d.DedupKey).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("received_at", sorted.Select(d => d.ReceivedAt).ToArray())
            {
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
            });
            insert.Parameters.Add(new NpgsqlParameter<string[]>("trace_id", sorted.Select(d => d.TraceId).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter<string[]>("content_type", sorted.Select(d => d.ContentType).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter<string[]>("headers", sorted.Select(d => d.HeadersJson).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter<byte[][]>("body", sorted.Select(d => d.Body).ToArray())
            {
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea,
            });
            insert.Parameters.Add(new NpgsqlParameter<string[]>("body_sha256", sorted.Select(d => d.BodySha256).ToArray()));
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) inserted.Add(reader.GetString(0));
        }

        var existing = new Dictionary<(string, string), (string Id, string Trace)>();
        var conflicted = sorted.Where(d => !inserted.Contains(d.Id)).ToArray();
        if (conflicted.Length > 0)
        {
            await using var select = new NpgsqlCommand(
                $"""
                SELECT r.id, r.trace_id, r.source, r.dedup_key FROM {Tables.RawEvents} r
                JOIN unnest(@source, @dedup_key) AS k(source, dedup_key) USING (source, dedup_key)
                """, connection, tx);
            select.Parameters.Add(new NpgsqlParameter<string[]>("source", conflicted.Select(d => d.Source).ToArray()));
            select.Parameters.Add(new NpgsqlParameter<string[]>("dedup_key", conflicted.Select(d => d.DedupKey).ToArray()));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                existing[(reader.GetString(2), reader.GetString(3))] = (reader.GetString(0), reader.GetString(1));
            }
        }

        var outcomes = new AppendOutcome[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var d = batch[i];
            if (inserted.Contains(d.Id))
            {
                outcomes[i] = new AppendOutcome(d.Id, Duplicate: false, d.TraceId);
            }
            else if (existing.TryGetValue((d.Source, d.DedupKey), out var e))
            {
                outcomes[i] = new AppendOutcome(e.Id, Duplicate: true, e.Trace);
            }
            else
            {
                throw new InvalidOperationException($"raw event for source {d.Source} conflicted on its dedup key but cannot be found");
            }
        }
        await AddIntakeStatsAsync(connection, tx, batch, outcomes, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return outcomes;
    }

    public override async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await base.DisposeAsync();
    }
}
