namespace Junction.Config;

public enum StorageEngine
{
    Sqlite,
    Postgres,
}

/// <summary><c>sqlite:PATH</c> or <c>postgres:CONNECTION STRING</c>.</summary>
public sealed record StorageUri(StorageEngine Engine, string Target)
{
    public static bool TryParse(string value, out StorageUri? uri, out string error)
    {
        uri = null;
        error = "";
        if (value.StartsWith("sqlite:", StringComparison.Ordinal) && value.Length > "sqlite:".Length)
        {
            uri = new StorageUri(StorageEngine.Sqlite, value["sqlite:".Length..]);
            return true;
        }
        if (value.StartsWith("postgres:", StringComparison.Ordinal) && value.Length > "postgres:".Length)
        {
            uri = new StorageUri(StorageEngine.Postgres, value["postgres:".Length..]);
            return true;
        }
        error = "expected \"sqlite:PATH\" (e.g. sqlite:./data/junction.db) or \"postgres:CONNECTION STRING\" "
            + "(e.g. postgres:Host=127.0.0.1;Port=5432;Username=junction;Database=junction)";
        return false;
    }

    public static StorageUri Parse(string value) =>
        TryParse(value, out var uri, out var error) ? uri! : throw new ConfigException([new ConfigError("storage", error)]);

    /// <summary>A description safe to log: never the password of a connection string.</summary>
    public string Describe() => Engine switch
    {
        StorageEngine.Sqlite => $"SQLite at {Target}",
        _ => $"PostgreSQL at {PostgresEndpoint()}",
    };

    private string PostgresEndpoint()
    {
        var parts = Target.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string Find(string key) => parts
            .Select(p => p.Split('=', 2))
            .FirstOrDefault(kv => kv.Length == 2 && kv[0].Equals(key, StringComparison.OrdinalIgnoreCase))?[1] ?? "?";
        return $"{Find("Host")}:{(Find("Port") is "?" ? "5432" : Find("Port"))}/{Find("Database")}";
    }
}
