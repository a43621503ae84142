using Junction.Storage;
using Junction.Storage.Postgres;
using Junction.Tests.Support;
using Npgsql;

namespace Junction.Tests.Store;

public sealed class PostgresStoreTests : StoreComplianceTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();

    protected override async Task ExecuteRawSqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Storage["postgres:".Length..]);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task AppendsFromTwoNodes_CommitInSeqOrder_SoACursorNeverSkipsALateCommit()
    {
        // Another node is mid-append: it holds the append lock and has inserted, not committed.
        var store = await OpenAsync();
        await using var other = new NpgsqlConnection(Storage["postgres:".Length..]);
        await other.OpenAsync();
        await using var tx = await other.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand(
            $"SELECT pg_advisory_xact_lock({PostgresStore.AppendLockKey}); " +
            "INSERT INTO raw_events (id, source, dedup_key, received_at, trace_id, content_type, headers, body, body_sha256) " +
            "VALUES ('slow', 's', 'slow', now(), 't', 'application/json', '{}', '\\x00', 'x')", other, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        var draft = new RawEventDraft("fast", "s", "fast", Time.GetUtcNow(), "t", "application/json", "{}", [1], "x");
        var append = store.AppendRawAsync([draft], CancellationToken.None);
        await Task.Delay(300);
        Assert.False(append.IsCompleted, "the second node's append must wait for the first to commit");
        Assert.Empty((await store.ListRawAsync(null, null, 100, CancellationToken.None)).Items);

        await tx.CommitAsync();
        await append;
        var page = await store.ListRawAsync(null, null, 100, CancellationToken.None);
        Assert.Equal(["slow", "fast"], page.Items.Select(i => i.Id));
    }

    [Fact]
    public async Task Ping_IsFalse_WhenTheServerDoesNotAnswer()
    {
        await using var store = StoreFactory.Open("postgres:Host=127.0.0.1;Port=1;Username=x;Database=x;Timeout=2", Time);
        Assert.False(await store.PingAsync(CancellationToken.None));
    }
}
