using Junction.Dispatch;
using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Dispatch.Engine;

/// <summary>The outbox's contract, written once and run against a real SQLite file and a real PostgreSQL.</summary>
public abstract class DispatchStoreComplianceTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly CancellationToken None = CancellationToken.None;
    protected readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private readonly List<IJunctionStore> _stores = [];
    private string _storage = "";

    protected string Storage => _storage;

    protected abstract Task<string> NewStorageAsync();

    public async ValueTask InitializeAsync() => _storage = await NewStorageAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _stores) await s.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected async Task<IJunctionStore> OpenAsync()
    {
        var store = StoreFactory.Open(_storage, Time);
        _stores.Add(store);
        await store.MigrateAsync(None);
        return store;
    }

    private static DeliveryCompletion Done(ClaimedDelivery c, string owner, string state = DeliveryStates.Succeeded, long? next = null) =>
        new(c.Id, owner, state, new DeliveryAttemptRecord(c.Attempt, 0, 5, state == DeliveryStates.Succeeded ? "succeeded" : "transient", 200, null),
            NextAttemptAt: next, SyncedDesired: c.Kind == DeliveryKinds.State && state == DeliveryStates.Succeeded ? c.Payload : null,
            DeadReason: state == DeliveryStates.Dead ? "Member In Compliance State" : null);

    private static async Task<List<DeliveryRow>> AllAsync(IJunctionStore store, string? state = null) =>
        [.. (await store.ListDeliveriesAsync(new DeliveryQuery(null, state, null, 0, 1000), None)).Items];

    [Fact]
    public async Task EventDraft_IsInsertedOncePerDestination_HoweverOftenItIsWritten()
    {
        var store = await OpenAsync();
        Assert.Equal(2, await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "evt_1"), Drafts.Event("ga4", "p1", "evt_1")], None));
        Assert.Equal(0, await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "evt_1")], None));
        // State drafts carry no event id: every one is a new desired state.
        Assert.Equal(2, await store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1", "a"), Drafts.State("kit", "p1", "a")], None));
        Assert.Equal(4, (await AllAsync(store)).Count);
    }

    [Fact]
    public async Task RateBucket_GrantsTheBurst_ThenRefillsByElapsedTime_CappedAtTheBurst()
    {
        var store = await OpenAsync();
        Assert.Equal(new RateGrant(3, 2), await store.TakeRateTokensAsync("hook", 5, 5, 3, None));
        Assert.Equal(2, (await store.TakeRateTokensAsync("hook", 5, 5, 10, None)).Granted);
        var empty = await store.TakeRateTokensAsync("hook", 5, 5, 1, None);
        Assert.Equal(0, empty.Granted);
        Assert.Equal(0, empty.Left, 6);
        Time.Advance(TimeSpan.FromMilliseconds(500));
        var refilled = await store.TakeRateTokensAsync("hook", 5, 5, 10, None);
        Assert.Equal(2, refilled.Granted);
        Assert.Equal(0.5, refilled.Left, 6);
        Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(5, (await store.TakeRateTokensAsync("hook", 5, 5, 100, None)).Granted);
        // Another destination has a bucket of its own.
        Assert.Equal(1, (await store.TakeRateTokensAsync("kit", 1, 1, 1, None)).Granted);
    }

    [Fact]
    public async Task RateBucket_ConcurrentTakesFromSeveralStores_NeverGrantMoreThanTheBucketHeld()
    {
        var stores = new List<IJunctionStore>();
        for (var i = 0; i < 3; i++) stores.Add(await OpenAsync());
        var takes = Enumerable.Range(0, 60).Select(i => Task.Run(() => stores[i % 3].TakeRateTokensAsync("hook", 10, 20, 2, None)));
        var grants = await Task.WhenAll(takes);
        Assert.Equal(20, grants.Sum(g => g.Granted));
        Time.Advance(TimeSpan.FromSeconds(1));
        grants = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() => stores[i % 3].TakeRateTokensAsync("hook", 10, 20, 1, None))));
        Assert.Equal(10, grants.Sum(g => g.Granted));
    }

    [Fact]
    public async Task DueBehind_ListsTheDueTasksQueuedBehindTasksWaitingForABatch_OfThosePeopleOnly()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "e1", "optin"), Drafts.Event("mp", "p2", "e2", "optin"),
            Drafts.Event("mp", "p1", "paid", "order.paid"), Drafts.Event("mp", "p3", "e3", "optin"), Drafts.Event("other", "p1", "x1")], None);
        var claimed = await store.ClaimDeliveriesAsync("mp", "w1", 10, Lease, None);
        Assert.Equal(["e1", "e2", "e3"], claimed.Select(c => c.EventId));

        var behind = await store.ListDueBehindAsync("mp", [.. claimed.Where(c => c.PersonId != "p3").Select(c => c.Id)], None);
        var task = Assert.Single(behind);
        Assert.Equal(DeliveryKinds.Event, task.Kind);
        Assert.Contains("\"order.paid\"", task.Payload, StringComparison.Ordinal);
        Assert.Empty(await store.ListDueBehindAsync("mp", [claimed.Single(c => c.PersonId == "p2").Id], None));
        Assert.Empty(await store.ListDueBehindAsync("mp", [], None));
    }

    [Fact]
    public async Task Release_GivesClaimedTasksBackUnattempted_HeldWhenPaused_OnlyThoseTheOwnerHolds()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "e1", "optin"), Drafts.Event("mp", "p2", "e2", "optin"),
            Drafts.Event("paused", "p1", "e3", "optin")], None);
        var claimed = await store.ClaimDeliveriesAsync("mp", "w1", 10, Lease, None);
        var other = await store.ClaimDeliveriesAsync("paused", "w1", 10, Lease, None);
        await store.PauseDestinationAsync("paused", null, None);

        Assert.Equal(0, await store.ReleaseDeliveriesAsync([.. claimed.Select(c => c.Id)], "w2", None));
        Assert.Equal(3, await store.ReleaseDeliveriesAsync([.. claimed.Select(c => c.Id), other.Single().Id], "w1", None));

        var rows = (await AllAsync(store)).ToDictionary(r => r.EventId!, StringComparer.Ordinal);
        Assert.Equal((DeliveryStates.Pending, 0, (long?)null), (rows["e1"].State, rows["e1"].Attempts, rows["e1"].FirstAttemptAt));
        Assert.Equal((DeliveryStates.Held, 0), (rows["e3"].State, rows["e3"].Attempts));
        Assert.Equal(2, (await store.ClaimDeliveriesAsync("mp", "w2", 10, Lease, None)).Count);
    }

    [Fact]
    public async Task Enqueue_RefusesADraftWithoutItsKey()
    {
        var store = await OpenAsync();
        var bad = Drafts.Event("hook", "p1", "evt_1") with { EventId = null };
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueDeliveriesAsync([bad], None));
        Assert.Contains("event_id", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueDeliveriesAsync([bad with { EventId = "e", Kind = "other" }], None));
        Assert.Empty(await AllAsync(store));
    }

    [Fact]
    public async Task Claim_TakesOnlyTheOldestOpenTaskOfEachPerson_AndTheNextOneAfterItCompletes()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1"), Drafts.Event("hook", "p1", "e2"), Drafts.Event("hook", "p2", "e3")], None);

        var first = await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None);
        Assert.Equal(["e1", "e3"], first.Select(c => c.EventId).Order(StringComparer.Ordinal));
        Assert.Empty(await store.ClaimDeliveriesAsync("hook", "w2", 10, Lease, None));

        var e1 = first.Single(c => c.EventId == "e1");
        Assert.True(await store.CompleteDeliveryAsync(Done(e1, "w1"), None));
        var next = await store.ClaimDeliveriesAsync("hook", "w2", 10, Lease, None);
        Assert.Equal("e2", Assert.Single(next).EventId);
        Assert.Equal(1, next[0].Attempt);
    }

    [Fact]
    public async Task Claim_ARetryingTaskStillBlocksThePersonsLaterTasks()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1"), Drafts.Event("hook", "p1", "e2")], None);
        var e1 = Assert.Single(await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None));
        Assert.True(await store.CompleteDeliveryAsync(Done(e1, "w1", DeliveryStates.Pending, Time.GetUtcNow().AddSeconds(10).ToUnixTimeMilliseconds()), None));

        Assert.Empty(await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None));
        Time.Advance(TimeSpan.FromSeconds(10));
        var retry = Assert.Single(await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None));
        Assert.Equal(("e1", 2), (retry.EventId, retry.Attempt));
    }

    [Fact]
    public async Task Claim_CoalescesQueuedStateTasks_IntoTheNewestDesiredState()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1", "a"), Drafts.State("kit", "p1", "a", "b"), Drafts.State("kit", "p1", "a", "b", "c")], None);

        var claimed = Assert.Single(await store.ClaimDeliveriesAsync("kit", "w1", 10, Lease, None));
        Assert.Equal(["a", "b", "c"], DeliveryPlanner.DeserializeDesired(claimed.Payload).Tags);
        var rows = await AllAsync(store);
        Assert.Equal([DeliveryStates.Superseded, DeliveryStates.Superseded, DeliveryStates.InFlight], rows.Select(r => r.State));
        Assert.Equal(rows[2].Id, claimed.Id);
    }

    [Fact]
    public async Task Claim_DoesNotCoalesceAStateTaskPastAnEventQueuedBetween()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1", "a"), Drafts.Event("kit", "p1", "e1"), Drafts.State("kit", "p1", "a", "b")], None);
        var claimed = Assert.Single(await store.ClaimDeliveriesAsync("kit", "w1", 10, Lease, None));
        Assert.Equal(["a"], DeliveryPlanner.DeserializeDesired(claimed.Payload).Tags);
        Assert.DoesNotContain(await AllAsync(store), r => r.State == DeliveryStates.Superseded);
    }

    [Fact]
    public async Task ExpiredLease_IsReclaimed_AndTheOldOwnerCanNoLongerAcknowledge()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);
        var w1 = Assert.Single(await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None));
        Assert.Empty(await store.ClaimDeliveriesAsync("hook", "w2", 10, Lease, None));

        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        var w2 = Assert.Single(await store.ClaimDeliveriesAsync("hook", "w2", 10, Lease, None));
        Assert.Equal((w1.Id, 2), (w2.Id, w2.Attempt));

        Assert.False(await store.CompleteDeliveryAsync(Done(w1, "w1"), None));
        Assert.True(await store.CompleteDeliveryAsync(Done(w2, "w2"), None));
        Assert.Equal(DeliveryStates.Succeeded, (await store.GetDeliveryAsync(w1.Id, None))!.State);
    }

    [Fact]
    public async Task ALeaseHeldPastItsExpiry_CannotAcknowledge_EvenBeforeAnotherWorkerTakesIt()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);
        var claimed = Assert.Single(await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None));
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(1, await store.RenewLeasesAsync([claimed.Id], "w1", Lease, None));
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(await store.CompleteDeliveryAsync(Done(claimed, "w1", DeliveryStates.Pending, Time.GetUtcNow().ToUnixTimeMilliseconds()), None));

        var again = Assert.Single(await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None));
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.False(await store.CompleteDeliveryAsync(Done(again, "w1"), None));
    }

    [Fact]
    public async Task SucceededStateTask_RecordsTheSync_WhichTheNextClaimCarries()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1", "a")], None);
        var first = Assert.Single(await store.ClaimDeliveriesAsync("kit", "w1", 10, Lease, None));
        Assert.Null(first.LastSynced);
        Assert.True(await store.CompleteDeliveryAsync(Done(first, "w1"), None));

        await store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1", "a", "b")], None);
        var second = Assert.Single(await store.ClaimDeliveriesAsync("kit", "w1", 10, Lease, None));
        Assert.Equal(["a"], DeliveryPlanner.DeserializeDesired(second.LastSynced!).Tags);
        Assert.Equal(first.Payload, await store.GetSyncedAsync("kit", "p1", None));
    }

    [Fact]
    public async Task Pause_HoldsQueuedAndNewTasks_AndResumeReleasesThemInOrder()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);
        Assert.True(await store.PauseDestinationAsync("hook", "maintenance", None));
        Assert.False(await store.PauseDestinationAsync("hook", "maintenance", None));
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e2"), Drafts.Event("other", "p1", "e3")], None);

        Assert.Equal(["e1", "e2"], (await AllAsync(store, DeliveryStates.Held)).Select(r => r.EventId));
        Assert.Empty(await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None));
        Assert.Single(await store.ClaimDeliveriesAsync("other", "w1", 10, Lease, None));
        var control = Assert.Single(await store.ListDestinationControlAsync(None));
        Assert.Equal(("hook", true, "maintenance"), (control.Destination, control.Paused, control.Reason));

        Assert.Equal(2, await store.ResumeDestinationAsync("hook", None));
        Assert.Equal("e1", Assert.Single(await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None)).EventId);
    }

    [Fact]
    public async Task ARetryOfAPausedDestination_IsHeld_NotPending()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);
        var claimed = Assert.Single(await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None));
        await store.PauseDestinationAsync("hook", null, None);
        Assert.True(await store.CompleteDeliveryAsync(Done(claimed, "w1", DeliveryStates.Pending, 0), None));
        Assert.Equal(DeliveryStates.Held, (await store.GetDeliveryAsync(claimed.Id, None))!.State);
    }

    [Fact]
    public async Task Replay_RequeuesADeadTaskOnce_KeepingItsAttempts()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1"), Drafts.Event("hook", "p2", "e2")], None);
        var claimed = await store.ClaimDeliveriesAsync("hook", "w1", 10, Lease, None);
        foreach (var c in claimed) Assert.True(await store.CompleteDeliveryAsync(Done(c, "w1", c.EventId == "e1" ? DeliveryStates.Dead : DeliveryStates.Succeeded), None));
        var dead = Assert.Single(await AllAsync(store, DeliveryStates.Dead));
        Assert.Equal("Member In Compliance State", dead.DeadReason);

        var ids = claimed.Select(c => c.Id).ToList();
        Assert.Equal(1, await store.ReplayDeadAsync(new ReplayFilter(ids, null, null, null), None));
        Assert.Equal(0, await store.ReplayDeadAsync(new ReplayFilter(ids, null, null, null), None));
        var row = (await store.GetDeliveryAsync(dead.Id, None))!;
        Assert.Equal((DeliveryStates.Pending, 0), (row.State, row.Attempts));
        Assert.NotNull(row.ReplayedAt);
        Assert.Single((await store.ListDeliveryAttemptsAsync([dead.Id], None))[dead.Id]);
    }

    [Fact]
    public async Task ReplayByFilter_MatchesDestinationPersonAndDeathTime()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1"), Drafts.Event("hook", "p2", "e2"), Drafts.Event("ga4", "p1", "e3")], None);
        foreach (var c in await store.ClaimDeliveriesAsync("hook", "w", 10, Lease, None)) await store.CompleteDeliveryAsync(Done(c, "w", DeliveryStates.Dead), None);
        var cutoff = Time.GetUtcNow().AddSeconds(1).ToUnixTimeMilliseconds();
        Time.Advance(TimeSpan.FromSeconds(5));
        foreach (var c in await store.ClaimDeliveriesAsync("ga4", "w", 10, Lease, None)) await store.CompleteDeliveryAsync(Done(c, "w", DeliveryStates.Dead), None);

        Assert.Equal(0, await store.ReplayDeadAsync(new ReplayFilter(null, "hook", cutoff, null), None));
        Assert.Equal(1, await store.ReplayDeadAsync(new ReplayFilter(null, null, cutoff, "p1"), None));
        Assert.Equal(1, await store.ReplayDeadAsync(new ReplayFilter(null, "hook", null, "p2"), None));
        Assert.Equal(["e1"], (await AllAsync(store, DeliveryStates.Dead)).Select(r => r.EventId));
    }

    [Fact]
    public async Task ReplayOfAStaleStateTask_IsSuperseded_SoItCannotUndoANewerSync()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1", "a")], None);
        var old = Assert.Single(await store.ClaimDeliveriesAsync("kit", "w", 10, Lease, None));
        await store.CompleteDeliveryAsync(Done(old, "w", DeliveryStates.Dead), None);
        await store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1", "b")], None);
        var newer = Assert.Single(await store.ClaimDeliveriesAsync("kit", "w", 10, Lease, None));
        await store.CompleteDeliveryAsync(Done(newer, "w"), None);

        Assert.Equal(0, await store.ReplayDeadAsync(new ReplayFilter([old.Id], null, null, null), None));
        Assert.Equal(DeliveryStates.Superseded, (await store.GetDeliveryAsync(old.Id, None))!.State);
    }

    [Fact]
    public async Task TwoWorkersClaimingAtOnce_NeverTakeTheSameTask()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();
        await a.EnqueueDeliveriesAsync(Enumerable.Range(0, 60).Select(i => Drafts.Event("hook", $"p{i}", $"e{i}")).ToList(), None);
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? a : b).ClaimDeliveriesAsync("hook", $"w{i}", 10, Lease, None)));
        var ids = claims.SelectMany(c => c).Select(c => c.Id).ToList();
        Assert.Equal(60, ids.Count);
        Assert.Equal(60, ids.Distinct().Count());
    }

    [Fact]
    public async Task Backlog_CountsOpenWorkPerDestination()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1"), Drafts.Event("hook", "p2", "e2"), Drafts.Event("hook", "p3", "e3")], None);
        var claimed = await store.ClaimDeliveriesAsync("hook", "w", 1, Lease, None);
        await store.CompleteDeliveryAsync(Done(claimed[0], "w", DeliveryStates.Dead), None);
        await store.ClaimDeliveriesAsync("hook", "w", 1, Lease, None);
        var backlog = Assert.Single(await store.CountOpenDeliveriesAsync(None));
        Assert.Equal(new DestinationBacklog("hook", 1, 0, 1, 1), backlog);
        Assert.Equal(Time.GetUtcNow().ToUnixTimeMilliseconds(), await store.NextDeliveryDueAsync("hook", None));
    }
}

public sealed class SqliteDispatchStoreTests : DispatchStoreComplianceTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresDispatchStoreTests : DispatchStoreComplianceTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();

    [Fact]
    public async Task ACompletionThatSawThePause_CommittingAfterTheResume_IsStillClaimed_NotHeldForever()
    {
        var store = await OpenAsync();
        await store.EnqueueDeliveriesAsync([Drafts.Event("kit", "p1", "e1")], CancellationToken.None);
        var task = Assert.Single(await store.ClaimDeliveriesAsync("kit", "w1", 10, TimeSpan.FromSeconds(30), CancellationToken.None));
        await store.PauseDestinationAsync("kit", "chaos", CancellationToken.None);

        // The completion's statement runs while paused (→ held) and commits only after the resume has run:
        // read committed lets the resume's UPDATE held → pending miss the row.
        await using var pg = new Npgsql.NpgsqlConnection(Storage["postgres:".Length..]);
        await pg.OpenAsync();
        await using var tx = await pg.BeginTransactionAsync();
        await using (var complete = new Npgsql.NpgsqlCommand(
            "UPDATE deliveries SET state = CASE WHEN EXISTS (SELECT 1 FROM destination_control c WHERE c.destination = deliveries.destination AND c.paused = 1) "
            + "THEN 'held' ELSE 'pending' END, lease_owner = NULL, lease_until = NULL WHERE id = @id", pg, tx))
        {
            complete.Parameters.AddWithValue("id", task.Id);
            Assert.Equal(1, await complete.ExecuteNonQueryAsync());
        }
        Assert.Equal(0, await store.ResumeDestinationAsync("kit", CancellationToken.None));
        await tx.CommitAsync();

        var again = Assert.Single(await store.ClaimDeliveriesAsync("kit", "w2", 10, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal(task.Id, again.Id);
    }
}
