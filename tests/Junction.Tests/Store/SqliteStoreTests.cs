using Junction.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Junction.Tests.Store;

public sealed class SqliteStoreTests : StoreComplianceTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());

    protected override async Task ExecuteRawSqlAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Storage["sqlite:".Length..]};Pooling=False");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Sqlite_RunsInWalMode_WithFullSync()
    {
        var store = await OpenAsync();
        Assert.True(await store.PingAsync(CancellationToken.None));
        await using var connection = new SqliteConnection($"Data Source={Storage["sqlite:".Length..]};Pooling=False");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await cmd.ExecuteScalarAsync());
    }
}
