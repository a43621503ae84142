using Npgsql;

namespace Junction.Tests.Support;

/// <summary>
/// Real storage for tests: a fresh SQLite file in a temp folder, or a fresh database on the
/// PostgreSQL server named by JUNCTION_TEST_POSTGRES (started by scripts/test.sh). Under CI a
/// missing server is a failure, not a skip.
/// </summary>
public static class TestStorage
{
    public const string PostgresVariable = "JUNCTION_TEST_POSTGRES";

    public static string NewSqlite() =>
        "sqlite:" + Path.Combine(NewTempDirectory(), "junction.db");

    public static string NewTempDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "junction-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static async Task<string> NewPostgresAsync()
    {
        var baseConnection = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrEmpty(baseConnection))
        {
            if (Environment.GetEnvironmentVariable("CI") is "true" or "1")
            {
                throw new InvalidOperationException($"{PostgresVariable} is not set under CI: run the tests through scripts/test.sh");
            }
            Assert.Skip($"{PostgresVariable} is not set; run scripts/test.sh to test against a real PostgreSQL server");
        }
        var name = "jt_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(baseConnection))
        {
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await cmd.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(baseConnection) { Database = name };
        return "postgres:" + builder.ConnectionString;
    }
}
