using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Junction.Tests.Support;

/// <summary>
/// Reads every row of every table of a store straight from the engine, and reports where a text
/// occurs in any column (text, JSON and byte columns alike; bytes read as UTF-8). For proving that
/// something is gone, not for finding it fast.
/// </summary>
public static class StoreScan
{
    public static async Task<IReadOnlyList<string>> FindAsync(string storage, params string[] needles)
    {
        var hits = new List<string>();
        await using var connection = Open(storage);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = storage.StartsWith("sqlite:", StringComparison.Ordinal)
                ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                : "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name";
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        Assert.Contains("raw_events", tables);
        foreach (var table in tables)
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = $"SELECT * FROM {table}";
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    if (reader.IsDBNull(i)) continue;
                    var value = reader.GetValue(i) switch
                    {
                        byte[] bytes => Encoding.UTF8.GetString(bytes),
                        var other => Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture) ?? "",
                    };
                    foreach (var needle in needles)
                    {
                        if (value.Contains(needle, StringComparison.OrdinalIgnoreCase)) hits.Add($"{table}.{reader.GetName(i)}: {needle}");
                    }
                }
            }
        }
        return hits;
    }

    private static DbConnection Open(string storage) => storage.StartsWith("sqlite:", StringComparison.Ordinal)
        ? new SqliteConnection($"Data Source={storage["sqlite:".Length..]};Pooling=False")
        : new NpgsqlConnection(storage["postgres:".Length..]);
}
