using Junction.Config;
using Junction.Storage.Postgres;
using Junction.Storage.Sqlite;

namespace Junction.Storage;

public static class StoreFactory
{
    public static IJunctionStore Open(string storage, TimeProvider time)
    {
        var uri = StorageUri.Parse(storage);
        return uri.Engine switch
        {
            StorageEngine.Sqlite => new SqliteStore(uri.Target, time),
            _ => new PostgresStore(uri.Target, time),
        };
    }
}
