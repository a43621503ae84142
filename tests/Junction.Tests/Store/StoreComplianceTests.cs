using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Junction.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Store;

/// <summary>
/// The store's contract, written once and run against each real engine (Wolverine's
/// MessageStoreCompliance pattern). Subclasses only say how to make a fresh store.
/// </summary>
public abstract class StoreComplianceTests : IAsyncLifetime
{
    protected readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private readonly List<IJunctionStore> _stores = [];

    protected string Storage { get; private set; } = "";

    protected abstract Task<string> NewStorageAsync();

    /// <summary>Runs SQL straight against the engine, bypassing the store (to prove what the store enforces).</summary>
    protected abstract Task ExecuteRawSqlAsync(string sql);

    public async ValueTask InitializeAsync() => Storage = await NewStorageAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _stores) await s.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected async Task<IJunctionStore> OpenAsync()
    {
        var store = StoreFactory.Open(Storage, Time);
        _stores.Add(store);
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    private RawEventDraft Draft(string source, string key, byte[]? body = null)
    {
        body ??= Encoding.UTF8.GetBytes($"{{\"id\":\"{key}\"}}");
        return new RawEventDraft(Guid.CreateVersion7(Time.GetUtcNow()).ToString(), source, key, Time.GetUtcNow(),
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), "application/json", "{\"stripe-signature\":\"t=1,v1=ab\"}",
            body, Convert.ToHexStringLower(SHA256.HashData(body)));
    }

    [Fact]
    public async Task Append_StoresNewEvents_AndAnswersAKnownKeyWithTheFirstEvent()
    {
        var store = await OpenAsync();
        var first = Draft("s", "evt_1");
        var outcomes = await store.AppendRawAsync([first, Draft("s", "evt_2"), Draft("other", "evt_1")], CancellationToken.None);
        Assert.All(outcomes, o => Assert.False(o.Duplicate));
        Assert.Equal(first.Id, outcomes[0].Id);

        var again = Draft("s", "evt_1");
        var second = await store.AppendRawAsync([again, Draft("s", "evt_3")], CancellationToken.None);
        Assert.True(second[0].Duplicate);
        Assert.Equal(first.Id, second[0].Id);
        Assert.Equal(first.TraceId, second[0].TraceId);
        Assert.False(second[1].Duplicate);
        Assert.Equal(4, await store.CountRawAsync(null, CancellationToken.None));
        Assert.Equal(3, await store.CountRawAsync("s", CancellationToken.None));
    }

    [Fact]
    public async Task GetRaw_ReturnsTheExactBodyBytesAndHeaders()
    {
        var store = await OpenAsync();
        byte[] body = [0x00, 0xFF, 0x7B, 0x22, 0x0A, 0xC3, 0xA9, 0x00];
        var draft = Draft("s", "bin", body);
        await store.AppendRawAsync([draft], CancellationToken.None);

        var raw = await store.GetRawAsync(draft.Id, CancellationToken.None);
        Assert.NotNull(raw);
        Assert.Equal(body, raw.Body);
        Assert.Equal(draft.BodySha256, raw.Summary.BodySha256);
        Assert.Equal(draft.TraceId, raw.Summary.TraceId);
        Assert.Equal(draft.ReceivedAt, raw.Summary.ReceivedAt);
        Assert.Contains("stripe-signature", raw.HeadersJson, StringComparison.Ordinal);
        Assert.Null(await store.GetRawAsync(Guid.NewGuid().ToString(), CancellationToken.None));
    }

    [Fact]
    public async Task ListRaw_PagesThroughTheLogInOrder_AndFiltersBySource()
    {
        var store = await OpenAsync();
        var drafts = Enumerable.Range(0, 7).Select(i => Draft(i % 2 == 0 ? "a" : "b", $"k{i}")).ToList();
        foreach (var d in drafts) await store.AppendRawAsync([d], CancellationToken.None);

        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await store.ListRawAsync(null, after, 3, CancellationToken.None);
            seen.AddRange(page.Items.Select(i => i.Id));
            after = page.Next;
            pages++;
        } while (after is not null);
        Assert.Equal(drafts.Select(d => d.Id), seen);
        Assert.Equal(3, pages);

        var onlyA = await store.ListRawAsync("a", null, 100, CancellationToken.None);
        Assert.Equal(drafts.Where(d => d.Source == "a").Select(d => d.Id), onlyA.Items.Select(i => i.Id));
        Assert.Null(onlyA.Next);
    }

    [Fact]
    public async Task ListRaw_FromTheLastCursor_SeesOnlyLaterEvents()
    {
        var store = await OpenAsync();
        await store.AppendRawAsync([Draft("s", "1"), Draft("s", "2")], CancellationToken.None);
        var page = await store.ListRawAsync(null, null, 2, CancellationToken.None);
        Assert.NotNull(page.Next);
        Assert.True(store.IsValidCursor(page.Next));
        Assert.Empty((await store.ListRawAsync(null, page.Next, 2, CancellationToken.None)).Items);

        var later = Draft("s", "3");
        await store.AppendRawAsync([later], CancellationToken.None);
        var next = await store.ListRawAsync(null, page.Next, 2, CancellationToken.None);
        Assert.Equal([later.Id], next.Items.Select(i => i.Id));
        Assert.False(store.IsValidCursor("not-a-cursor"));
    }

    [Fact]
    public async Task RawEvents_AreAppendOnly()
    {
        var store = await OpenAsync();
        await store.AppendRawAsync([Draft("s", "keep")], CancellationToken.None);
        await Assert.ThrowsAnyAsync<DbException>(() => ExecuteRawSqlAsync("UPDATE raw_events SET source = 'x'"));
        await Assert.ThrowsAnyAsync<DbException>(() => ExecuteRawSqlAsync("DELETE FROM raw_events"));
        Assert.Equal(1, await store.CountRawAsync("s", CancellationToken.None));
    }

    [Fact]
    public async Task RawLog_RefusesChanges_ExceptAnErasureRewritingTheBodyOfARowItListed()
    {
        var store = await OpenAsync();
        await store.AppendRawAsync([Draft("s", "keep"), Draft("s", "erase")], CancellationToken.None);
        // Not listed in erased_raw: still append-only, body included.
        await Assert.ThrowsAnyAsync<DbException>(() => ExecuteRawSqlAsync("UPDATE raw_events SET body = body WHERE dedup_key = 'erase'"));

        await ExecuteRawSqlAsync("INSERT INTO erased_raw (raw_id, erasure_id) SELECT id, 'er_test' FROM raw_events WHERE dedup_key = 'erase'");
        await ExecuteRawSqlAsync("UPDATE raw_events SET body = body WHERE dedup_key = 'erase'");
        // Only the body (and dedup key) of a listed row: its identity and place in the log stay, the others stay untouched, none is deleted.
        await Assert.ThrowsAnyAsync<DbException>(() => ExecuteRawSqlAsync("UPDATE raw_events SET source = 'x' WHERE dedup_key = 'erase'"));
        await Assert.ThrowsAnyAsync<DbException>(() => ExecuteRawSqlAsync("UPDATE raw_events SET trace_id = 'x' WHERE dedup_key = 'erase'"));
        await Assert.ThrowsAnyAsync<DbException>(() => ExecuteRawSqlAsync("UPDATE raw_events SET body = body WHERE dedup_key = 'keep'"));
        await Assert.ThrowsAnyAsync<DbException>(() => ExecuteRawSqlAsync("DELETE FROM raw_events WHERE dedup_key = 'erase'"));
        Assert.Equal(2, await store.CountRawAsync("s", CancellationToken.None));
    }

    [Fact]
    public async Task Rejections_AreKeptNewestFirst_AndTrimmedToTheirBound()
    {
        var store = await OpenAsync();
        for (var batch = 0; batch < 3; batch++)
        {
            var rows = Enumerable.Range(0, 5)
                .Select(i => new Rejection("s", "bad_signature", $"n{batch * 5 + i}", Time.GetUtcNow(), "{\"user-agent\":\"x\"}"))
                .ToList();
            await store.AppendRejectionsAsync(rows, keep: 8, CancellationToken.None);
        }
        var kept = await store.ListRejectionsAsync(null, 100, CancellationToken.None);
        Assert.Equal(8, kept.Count);
        Assert.Equal("n14", kept[0].Detail);
        Assert.Equal("n7", kept[^1].Detail);
        Assert.Empty(await store.ListRejectionsAsync("other", 100, CancellationToken.None));
    }

    [Fact]
    public async Task Migrate_TwiceOrFromASecondNode_ChangesNothing()
    {
        var first = await OpenAsync();
        await first.AppendRawAsync([Draft("s", "before")], CancellationToken.None);
        var second = await OpenAsync();
        await second.MigrateAsync(CancellationToken.None);
        Assert.Equal(1, await second.CountRawAsync(null, CancellationToken.None));
        Assert.True(await second.PingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ConcurrentAppends_FromTwoNodes_StoreEachKeyExactlyOnce()
    {
        var nodeA = await OpenAsync();
        var nodeB = await OpenAsync();
        const int keys = 200;
        async Task<List<AppendOutcome>> Run(IJunctionStore store, int seed)
        {
            var results = new List<AppendOutcome>();
            var random = new Random(seed);
            for (var i = 0; i < 40; i++)
            {
                var batch = Enumerable.Range(0, 10).Select(_ => random.Next(keys)).Distinct().Select(k => Draft("s", $"k{k}")).ToList();
                results.AddRange(await store.AppendRawAsync(batch, CancellationToken.None));
            }
            return results;
        }
        var all = (await Task.WhenAll(Run(nodeA, 1), Run(nodeB, 2), Run(nodeA, 3), Run(nodeB, 4))).SelectMany(r => r).ToList();

        var stored = await nodeA.CountRawAsync("s", CancellationToken.None);
        Assert.Equal(all.Count(o => !o.Duplicate), stored);
        Assert.Equal(stored, all.Select(o => o.Id).Distinct().Count());
    }
}
