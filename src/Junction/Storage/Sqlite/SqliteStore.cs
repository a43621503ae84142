using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Junction.Storage.Sqlite;

/// <summary>
/// The embedded default: one file in WAL mode. SQLite has one writer at a time; intake funnels its
/// appends through one group-commit loop instead of pretending otherwise. synchronous=FULL makes
/// every commit durable before it returns, across power loss as well as process crashes.
/// </summary>
public sealed class SqliteStore : RelationalStore
{
    private readonly string _connectionString;

    public SqliteStore(string path, TimeProvider time) : base(time)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        FilePath = full;
    }

    public string FilePath { get; }

    /// <summary>
    /// Each role across processes: an exclusive lock on <c>{db}.{role}.lock</c> (flock, released by the
    /// OS when the process dies; also exclusive within one process), so `junction rebuild` cannot run
    /// beside a serving projector, nor `junction backfill` normalize beside a serving normalizer.
    /// </summary>
    protected override Task<IAsyncDisposable?> LockRoleAsync(string role, CancellationToken cancellationToken)
    {
        try
        {
            var stream = new FileStream($"{FilePath}.{role}.lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return Task.FromResult<IAsyncDisposable?>(stream);
        }
        catch (IOException)
        {
            return Task.FromResult<IAsyncDisposable?>(null);
        }
    }

    private readonly SemaphoreSlim _writer = new(1, 1);

    protected override async ValueTask<IDisposable?> EnterWriteAsync(CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        return new Release(_writer);
    }

    private sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) semaphore.Release();
        }
    }

    public override string Engine => "sqlite";

    protected override DbConnection CreateConnection() => new SqliteConnection(_connectionString);

    protected override async Task OnOpenedAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        // journal_mode is stored in the file; synchronous, busy_timeout and cache_size are per
        // connection. An 8 MB page cache (the default is 2 MB) keeps the indexes that intake and the
        // projector probe on every event in memory instead of re-reading them with pread.
        cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA cache_size=-8192;";
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// In WAL mode, NORMAL skips the fsync at commit: a process crash still loses nothing, and a power
    /// cut can only roll back the newest derived commits together with their cursor, which are then
    /// redone. The next FULL commit (intake) syncs these frames too.
    /// </summary>
    protected override async Task RelaxDurabilityAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA synchronous=NORMAL;";
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override string InsertRawSql =>
        $"""
        INSERT INTO {Tables.RawEvents} (id, source, dedup_key, received_at, trace_id, content_type, headers, body, body_sha256)
        VALUES (@id, @source, @dedup_key, @received_at, @trace_id, @content_type, @headers, @body, @body_sha256)
        ON CONFLICT (source, dedup_key) DO NOTHING
        """;

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return base.DisposeAsync();
    }
}
