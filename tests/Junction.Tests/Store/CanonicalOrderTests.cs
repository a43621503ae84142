using System.Collections.Concurrent;
using Junction.Canonical;
using Junction.Normalize;
using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Store;

/// <summary>
/// R8.2: the projector's cursor over canonical_events is seq. Many writers commit canonical events
/// at once (the serving normalizer, its pending loop, `junction backfill`, `junction quarantine
/// retry`), while a reader advances a cursor exactly as the projector does. It must see every
/// committed event, exactly once: a transaction that took a lower seq but committed later must not
/// land behind the cursor.
/// </summary>
public abstract class CanonicalOrderTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private IJunctionStore? _store;

    protected abstract Task<string> NewStorageAsync();

    public async ValueTask InitializeAsync()
    {
        _store = StoreFactory.Open(await NewStorageAsync(), _time);
        await _store.MigrateAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task ConcurrentCanonicalWriters_ACursorReaderSeesEveryCommittedEvent_ExactlyOnce()
    {
        var store = (RelationalStore)_store!;
        const int Writers = 8, CommitsPerWriter = 25, EventsPerCommit = 12;
        var committed = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var seen = new List<string>();
        var writersDone = 0;

        async Task Writer(int w)
        {
            for (var c = 0; c < CommitsPerWriter; c++)
            {
                var rawId = $"raw_{w}_{c}";
                var events = Enumerable.Range(0, EventsPerCommit).Select(i => Event(rawId, $"{w}/{c}/{i}")).ToList();
                var outcome = new NormalizationOutcome
                {
                    RawId = rawId, RawSeq = w * 1000 + c, Source = "s", ProviderType = "t", Status = NormalizationStatus.Mapped,
                    Events = events.Select(e => (e, CanonicalJson.Serialize(e))).ToList(),
                };
                await store.CommitNormalizationAsync([outcome], null, 0, null, CancellationToken.None);
                foreach (var e in events) committed[e.Id] = true;
            }
            Interlocked.Increment(ref writersDone);
        }

        async Task Reader()
        {
            var cursor = 0L;
            while (true)
            {
                // Read the flag first: once every writer is done, one more pass sees everything committed.
                var finished = Volatile.Read(ref writersDone) == Writers;
                var rows = await store.ReadProjectRowsAsync(cursor, 500, CancellationToken.None);
                foreach (var row in rows) seen.Add(CanonicalJson.Deserialize(row.Json).Id);
                if (rows.Count > 0) cursor = rows[^1].Seq;
                else if (finished) return;
            }
        }

        var reader = Task.Run(Reader);
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() => Writer(w))));
        await reader;

        Assert.Equal(Writers * CommitsPerWriter * EventsPerCommit, committed.Count);
        var duplicates = seen.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(duplicates);
        var skipped = committed.Keys.Except(seen).ToList();
        Assert.True(skipped.Count == 0, $"the cursor passed {skipped.Count} committed events for good");
    }

    private CanonicalEvent Event(string rawId, string key) => new()
    {
        Id = CanonicalEvent.MakeId("s", key),
        RawId = rawId,
        Source = "s",
        Provider = "api",
        Type = "optin",
        OccurredAt = _time.GetUtcNow(),
        TraceId = "trace",
        Subject = new Subject { Email = $"{key.Replace('/', '.')}@example.com" },
    };
}

public sealed class SqliteCanonicalOrderTests : CanonicalOrderTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresCanonicalOrderTests : CanonicalOrderTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
