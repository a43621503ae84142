namespace Junction.Storage;

/// <summary>The durable store. One implementation per engine over shared ADO.NET code (<see cref="RelationalStore"/>).</summary>
public interface IJunctionStore : IAsyncDisposable
{
    string Engine { get; }

    Task MigrateAsync(CancellationToken cancellationToken);

    Task<bool> PingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Appends a batch in one transaction and returns one outcome per draft, in order. When this
    /// returns, every new event is durable. Drafts must have distinct (source, dedup key) pairs.
    /// </summary>
    Task<IReadOnlyList<AppendOutcome>> AppendRawAsync(IReadOnlyList<RawEventDraft> batch, CancellationToken cancellationToken);

    /// <summary>Raw events in log order after <paramref name="after"/> (an opaque cursor from a previous page).</summary>
    Task<RawEventPage> ListRawAsync(string? source, string? after, int limit, CancellationToken cancellationToken);

    Task<RawEvent?> GetRawAsync(string id, CancellationToken cancellationToken);

    Task<long> CountRawAsync(string? source, CancellationToken cancellationToken);

    /// <summary>Appends rejections and trims the table to <paramref name="keep"/> most recent rows.</summary>
    Task AppendRejectionsAsync(IReadOnlyList<Rejection> rejections, int keep, CancellationToken cancellationToken);

    Task<IReadOnlyList<Rejection>> ListRejectionsAsync(string? source, int limit, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="cursor"/> is a cursor this engine could have produced.</summary>
    bool IsValidCursor(string cursor);
}
