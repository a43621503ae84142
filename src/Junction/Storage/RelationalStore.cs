using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Reflection;

namespace Junction.Storage;

/// <summary>
/// The ADO.NET code both engines share. An engine overrides only what its SQL dialect needs: how to
/// connect, how a cursor over the log is formed, and any faster bulk path (Wolverine.RDBMS style).
/// </summary>
public abstract partial class RelationalStore(TimeProvider time) : IJunctionStore
{
    protected TimeProvider Time { get; } = time;

    public abstract string Engine { get; }

    protected abstract DbConnection CreateConnection();

    /// <summary>Per-connection settings (SQLite pragmas).</summary>
    protected virtual Task OnOpenedAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Serializes migrations across nodes; returns what releases the lock.</summary>
    protected virtual Task<IAsyncDisposable?> LockMigrationsAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable?>(null);

    protected abstract string InsertRawSql { get; }

    /// <summary>
    /// Held around each write transaction; null where the engine needs none. SQLite has one writer
    /// at a time: waiting here (a fair, in-process queue) replaces SQLite's busy handler, which
    /// sleeps in growing steps and gave intake 100 ms stalls behind a normalization commit.
    /// </summary>
    protected virtual ValueTask<IDisposable?> EnterWriteAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IDisposable?>(null);

    /// <summary>
    /// The log cursor is seq on both engines: SQLite has one writer, and PostgreSQL appends commit in
    /// seq order under an advisory lock, so no row can appear behind a cursor that has passed it.
    /// </summary>
    public bool IsValidCursor(string cursor) =>
        long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    protected async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken);
            await OnOpenedAsync(connection, cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var migrationLock = await LockMigrationsAsync(connection, cancellationToken);
        try
        {
            await ExecuteAsync(connection, null,
                $"CREATE TABLE IF NOT EXISTS {Tables.Migrations} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                cancellationToken);
            var applied = new HashSet<int>();
            await using (var cmd = connection.CreateCommand())
            {
                cmd.CommandText = $"SELECT version FROM {Tables.Migrations}";
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) applied.Add(reader.GetInt32(0));
            }

            foreach (var (version, name, sql) in Migrations.For(Engine))
            {
                if (applied.Contains(version)) continue;
                await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, tx, sql, cancellationToken);
                await using (var cmd = connection.CreateCommand())
                {
                    cmd.Transaction = tx;
                    cmd.CommandText = $"INSERT INTO {Tables.Migrations} (version, name, applied_at) VALUES (@v, @n, @t)";
                    AddParameter(cmd, "v", version);
                    AddParameter(cmd, "n", name);
                    AddParameter(cmd, "t", Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }
                await tx.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            if (migrationLock is not null) await migrationLock.DisposeAsync();
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = $"SELECT COUNT(*) FROM {Tables.Migrations}";
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
        }
        catch (DbException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>One prepared insert per row, with ON CONFLICT DO NOTHING for the dedup key.</summary>
    public virtual async Task<IReadOnlyList<AppendOutcome>> AppendRawAsync(IReadOnlyList<RawEventDraft> batch, CancellationToken cancellationToken)
    {
        var outcomes = new AppendOutcome[batch.Count];
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);

        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = InsertRawSql;
        var pId = AddParameter(insert, "id", "");
        var pSource = AddParameter(insert, "source", "");
        var pKey = AddParameter(insert, "dedup_key", "");
        var pTime = AddParameter(insert, "received_at", DateTimeOffset.MinValue);
        var pTrace = AddParameter(insert, "trace_id", "");
        var pType = AddParameter(insert, "content_type", "");
        var pHeaders = AddParameter(insert, "headers", "");
        var pBody = AddParameter(insert, "body", Array.Empty<byte>());
        var pSha = AddParameter(insert, "body_sha256", "");

        await using var existing = connection.CreateCommand();
        existing.Transaction = tx;
        existing.CommandText = $"SELECT id, trace_id FROM {Tables.RawEvents} WHERE source = @source AND dedup_key = @dedup_key";
        var eSource = AddParameter(existing, "source", "");
        var eKey = AddParameter(existing, "dedup_key", "");

        for (var i = 0; i < batch.Count; i++)
        {
            var d = batch[i];
            pId.Value = d.Id;
            pSource.Value = d.Source;
            pKey.Value = d.DedupKey;
            pTime.Value = d.ReceivedAt;
            pTrace.Value = d.TraceId;
            pType.Value = d.ContentType;
            pHeaders.Value = d.HeadersJson;
            pBody.Value = d.Body;
            pSha.Value = d.BodySha256;
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                outcomes[i] = new AppendOutcome(d.Id, Duplicate: false, d.TraceId);
                continue;
            }
            eSource.Value = d.Source;
            eKey.Value = d.DedupKey;
            await using var reader = await existing.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException($"raw event for source {d.Source} conflicted on its dedup key but cannot be found");
            }
            outcomes[i] = new AppendOutcome(reader.GetString(0), Duplicate: true, reader.GetString(1));
        }

        await AddIntakeStatsAsync(connection, tx, batch, outcomes, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return outcomes;
    }

    public async Task<RawEventPage> ListRawAsync(string? source, string? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {SummaryColumns}, seq FROM {Tables.RawEvents} WHERE seq > @after"
            + (source is null ? "" : " AND source = @source") + " ORDER BY seq LIMIT @limit";
        AddParameter(cmd, "after", after is null ? 0L : long.Parse(after, CultureInfo.InvariantCulture));
        if (source is not null) AddParameter(cmd, "source", source);
        AddParameter(cmd, "limit", (long)limit);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        var items = new List<RawEventSummary>(Math.Min(limit, 1024));
        string? last = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(ReadSummary(reader));
            last = reader.GetInt64(6).ToString(CultureInfo.InvariantCulture);
        }
        return new RawEventPage(items, items.Count == limit ? last : null);
    }

    public async Task<RawEvent?> GetRawAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {SummaryColumns}, content_type, headers, body FROM {Tables.RawEvents} WHERE id = @id";
        AddParameter(cmd, "id", id);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new RawEvent(ReadSummary(reader), reader.GetString(6), reader.GetString(7), (byte[])reader.GetValue(8));
    }

    public async Task<long> CountRawAsync(string? source, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = source is null
            ? $"SELECT COUNT(*) FROM {Tables.RawEvents}"
            : $"SELECT COUNT(*) FROM {Tables.RawEvents} WHERE source = @source";
        if (source is not null) AddParameter(cmd, "source", source);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task AppendRejectionsAsync(IReadOnlyList<Rejection> rejections, int keep, CancellationToken cancellationToken)
    {
        if (rejections.Count == 0) return;
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        // Not intake's fsync path: a rejection is never acknowledged data (a power cut may lose the newest few).
        await RelaxDurabilityAsync(connection, cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await SkipCommitWaitAsync(connection, tx, cancellationToken);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = InsertRejectionSql;
            var pSource = AddParameter(cmd, "source", "");
            var pReason = AddParameter(cmd, "reason", "");
            var pDetail = AddParameter(cmd, "detail", "");
            var pTime = AddParameter(cmd, "received_at", DateTimeOffset.MinValue);
            var pHeaders = AddParameter(cmd, "headers", "");
            foreach (var r in rejections)
            {
                pSource.Value = r.Source;
                pReason.Value = r.Reason;
                pDetail.Value = r.Detail;
                pTime.Value = r.ReceivedAt;
                pHeaders.Value = r.HeadersJson;
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await using (var trim = connection.CreateCommand())
        {
            trim.Transaction = tx;
            trim.CommandText = $"DELETE FROM {Tables.Rejections} WHERE seq <= (SELECT MAX(seq) FROM {Tables.Rejections}) - @keep";
            AddParameter(trim, "keep", (long)keep);
            await trim.ExecuteNonQueryAsync(cancellationToken);
        }
        // Counted by source and reason ("stripe-main|bad_signature") per hour: the log itself keeps only the newest rows.
        var counts = rejections.GroupBy(r => (Hour: r.ReceivedAt.ToUnixTimeMilliseconds() / HourMs * HourMs, Key: $"{r.Source}|{r.Reason}"));
        var stats = new RowWrites(connection, tx);
        foreach (var g in counts) AddStat(stats, g.Key.Hour, "rejected", g.Key.Key, g.Count());
        await stats.ExecuteAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>PostgreSQL: this transaction's commit does not wait for its WAL flush. SQLite: nothing (see <see cref="RelaxDurabilityAsync"/>).</summary>
    protected virtual Task SkipCommitWaitAsync(DbConnection connection, DbTransaction tx, CancellationToken cancellationToken) => Task.CompletedTask;

    protected virtual string InsertRejectionSql =>
        $"INSERT INTO {Tables.Rejections} (source, reason, detail, received_at, headers) VALUES (@source, @reason, @detail, @received_at, @headers)";

    public async Task<IReadOnlyList<Rejection>> ListRejectionsAsync(string? source, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT source, reason, detail, received_at, {HeadersAsText} FROM {Tables.Rejections}"
            + (source is null ? "" : " WHERE source = @source") + " ORDER BY seq DESC LIMIT @limit";
        if (source is not null) AddParameter(cmd, "source", source);
        AddParameter(cmd, "limit", (long)limit);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        var result = new List<Rejection>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new Rejection(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4)));
        }
        return result;
    }

    protected virtual string HeadersAsText => "headers";

    protected string SummaryColumns => "id, source, dedup_key, received_at, trace_id, body_sha256";

    protected static RawEventSummary ReadSummary(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3), r.GetString(4), r.GetString(5));

    /// <summary>
    /// A parameter's name as the SQL spells it (<c>@name</c>). Microsoft.Data.Sqlite binds by name on
    /// every execution: a bare <c>name</c> costs a failed lookup and a string concatenation per
    /// parameter per execution before <c>@name</c> is found. Npgsql accepts either.
    /// </summary>
    protected static string ParameterName(string name) => name.Length > 0 && name[0] is '@' or ':' or '$' ? name : "@" + name;

    protected static DbParameter AddParameter(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = ParameterName(name);
        p.Value = value;
        cmd.Parameters.Add(p);
        return p;
    }

    protected static async Task ExecuteAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Table names, in one place.</summary>
public static class Tables
{
    public const string Migrations = "schema_migrations";
    public const string RawEvents = "raw_events";
    public const string Rejections = "rejections";
    public const string CanonicalEvents = "canonical_events";
    public const string CanonicalRaw = "canonical_raw";
    public const string Normalization = "normalization";
    public const string Cursors = "cursors";
    public const string Enrichments = "enrichments";
    public const string DriftTypes = "drift_types";
    public const string DriftPaths = "drift_paths";
    public const string DriftChanges = "drift_changes";
    public const string People = "people";
    public const string PersonIdentifiers = "person_identifiers";
    public const string PersonEvents = "person_events";
    public const string IdentityLog = "identity_log";
    public const string IdentityConflicts = "identity_conflicts";
    public const string PersonOverrides = "person_overrides";
    public const string StateChanges = "state_changes";
    public const string Timers = "timers";
    public const string Deliveries = "deliveries";
    public const string DeliveryAttempts = "delivery_attempts";
    public const string DestinationSync = "destination_sync";
    public const string DestinationControl = "destination_control";
    public const string Audits = "audits";
    public const string AuditFindings = "audit_findings";
    public const string AuditAccepted = "audit_accepted";
    public const string AuditSchedule = "audit_schedule";
    public const string SmokeRuns = "smoke_runs";
    public const string Operations = "operations";
    public const string RateBuckets = "rate_buckets";
    public const string PersonSummary = "person_summary";
    public const string OrderSummary = "order_summary";
    public const string StatsHourly = "stats_hourly";
    public const string Leases = "leases";
    public const string ProjectPoison = "project_poison";
    public const string Incidents = "incidents";
    public const string IncidentTimeline = "incident_timeline";
    public const string AlertPending = "alert_pending";
    public const string DataProtectionKeys = "data_protection_keys";
    public const string Erasures = "erasures";
    public const string ErasedEmails = "erased_emails";
    public const string ErasedEvents = "erased_events";
    public const string ErasedRaw = "erased_raw";
    public const string InstallSecrets = "install_secrets";
}

/// <summary>Versioned SQL files per engine, embedded as <c>Storage/Migrations/{engine}/NNNN_name.sql</c>.</summary>
internal static class Migrations
{
    public static IEnumerable<(int Version, string Name, string Sql)> For(string engine)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var prefix = $"Junction.Storage.Migrations.{engine}.";
        foreach (var resource in assembly.GetManifestResourceNames()
                     .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            var file = resource[prefix.Length..^".sql".Length];
            var version = int.Parse(file.AsSpan(0, 4), CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (version, file, reader.ReadToEnd());
        }
    }
}
