using System.Diagnostics.Metrics;
using Junction.Dispatch;
using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Dispatch.Engine;

/// <summary>
/// The dispatcher against a real SQLite outbox, a scripted connector and a fake clock: each test
/// pumps rounds by hand and moves time to where the stored schedule says the next attempt is.
/// </summary>
public sealed class DispatcherTests : IAsyncDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private readonly IJunctionStore _store;
    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private Dispatcher? _dispatcher;

    public DispatcherTests()
    {
        _store = StoreFactory.Open(TestStorage.NewSqlite(), _time);
    }

    public async ValueTask DisposeAsync()
    {
        _dispatcher?.Dispose();
        await _store.DisposeAsync();
        await _meters.DisposeAsync();
    }

    /// <summary>Always the same "random" draw, so a backoff is exact.</summary>
    private sealed class PinnedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }

    private Task<Dispatcher> StartAsync(DispatchOptions options, params ScriptedConnector[] connectors) =>
        StartAsync(options, connectors.Cast<IDestinationConnector>().ToArray());

    private async Task<Dispatcher> StartAsync(DispatchOptions options, params IDestinationConnector[] connectors)
    {
        await _store.MigrateAsync(None);
        _dispatcher = new Dispatcher(_store, connectors.Select(c => c.Config), connectors, _time,
            new DispatchMetrics(_meters.GetRequiredService<IMeterFactory>()), options, NullLogger<Dispatcher>.Instance);
        return _dispatcher;
    }

    private static DispatchOptions Options(double jitter = 1.0, int batch = 16) => new() { Jitter = new PinnedRandom(jitter), BatchSize = batch, WorkerId = "test" };

    private async Task<DeliveryRow> RowAsync(string? eventId = null) =>
        (await _store.ListDeliveriesAsync(new DeliveryQuery(null, null, null, 0, 1000), None)).Items.First(r => eventId is null || r.EventId == eventId);

    private async Task AdvanceToNextAttemptAsync(string eventId)
    {
        var row = await RowAsync(eventId);
        var due = DateTimeOffset.FromUnixTimeMilliseconds(row.NextAttemptAt);
        if (due > _time.GetUtcNow()) _time.Advance(due - _time.GetUtcNow());
    }

    [Fact]
    public async Task TransientFailure_BacksOffExponentially_WithFullJitterBelowTheCeiling()
    {
        var hook = new ScriptedConnector(Drafts.Destination("hook", DestinationTypes.Webhook, baseDelay: TimeSpan.FromSeconds(2)))
            .Always(ScriptedConnector.Transient());
        var dispatcher = await StartAsync(Options(jitter: 0.75), hook);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);

        var delays = new List<long>();
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            Assert.Equal(1, await dispatcher.PumpAsync(None));
            var row = await RowAsync("e1");
            Assert.Equal((DeliveryStates.Pending, attempt), (row.State, row.Attempts));
            delays.Add(row.NextAttemptAt - _time.GetUtcNow().ToUnixTimeMilliseconds());
            Assert.Equal(0, await dispatcher.PumpAsync(None));
            await AdvanceToNextAttemptAsync("e1");
        }
        // 0.75 of base·2^(n-1): 2 s, 4 s, 8 s, 16 s ceilings.
        Assert.Equal([1500L, 3000L, 6000L, 12000L], delays);
    }

    [Fact]
    public async Task Backoff_StaysWithinZeroAndTheCeiling_AndTheCeilingIsCapped()
    {
        var options = Options(jitter: 0.999999);
        options.MaxBackoff = TimeSpan.FromMinutes(5);
        var dispatcher = await StartAsync(options);
        Assert.InRange(dispatcher.Backoff(TimeSpan.FromSeconds(1), 1).TotalMilliseconds, 999, 1000);
        Assert.InRange(dispatcher.Backoff(TimeSpan.FromSeconds(1), 4).TotalMilliseconds, 7990, 8000);
        Assert.InRange(dispatcher.Backoff(TimeSpan.FromSeconds(1), 40).TotalMinutes, 4.99, 5);
        var real = new Dispatcher(_store, [], [], _time, new DispatchMetrics(_meters.GetRequiredService<IMeterFactory>()),
            new DispatchOptions { Jitter = new Random(7) }, NullLogger<Dispatcher>.Instance);
        var draws = Enumerable.Range(0, 200).Select(_ => real.Backoff(TimeSpan.FromSeconds(1), 3).TotalMilliseconds).ToList();
        Assert.All(draws, d => Assert.InRange(d, 0, 4000));
        Assert.True(draws.Min() < 1000 && draws.Max() > 3000, "full jitter spreads over the whole range");
        real.Dispose();
    }

    [Fact]
    public async Task RateLimited_WaitsForRetryAfter_WithoutCountingAnAttempt_AndHoldsTheWholeDestination()
    {
        var kit = new ScriptedConnector(Drafts.Destination("hook", DestinationTypes.Webhook)).Then(ScriptedConnector.RateLimited(TimeSpan.FromSeconds(30)));
        var dispatcher = await StartAsync(Options(batch: 1), kit);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1"), Drafts.Event("hook", "p2", "e2")], None);

        Assert.Equal(1, await dispatcher.PumpAsync(None));
        var limited = await RowAsync("e1");
        Assert.Equal((DeliveryStates.Pending, 0), (limited.State, limited.Attempts));
        Assert.Equal(_time.GetUtcNow().AddSeconds(30).ToUnixTimeMilliseconds(), limited.NextAttemptAt);

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        Assert.Single(kit.Calls);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, await dispatcher.PumpAsync(None));
        var done = await RowAsync("e1");
        Assert.Equal((DeliveryStates.Succeeded, 1), (done.State, done.Attempts));
        var log = (await _store.ListDeliveryAttemptsAsync([done.Id], None))[done.Id];
        Assert.Equal(["rate_limited", "succeeded"], log.Select(a => a.Outcome));
        Assert.Equal(CircuitState.Closed, dispatcher.Runtime("hook")!.Breaker.State);
    }

    [Fact]
    public async Task PermanentError_GoesToTheDlqAtOnce_KeepingTheRequestAttemptsAndTrace()
    {
        var mc = new ScriptedConnector(Drafts.Destination("mc", DestinationTypes.Mailchimp)).Always(ScriptedConnector.Permanent());
        var dispatcher = await StartAsync(Options(), mc);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mc", "p1", "e1")], None);

        Assert.Equal(1, await dispatcher.PumpAsync(None));
        var dead = await RowAsync("e1");
        Assert.Equal(DeliveryStates.Dead, dead.State);
        Assert.Equal("Member In Compliance State", dead.DeadReason);
        Assert.Equal("trace-e1", dead.TraceId);
        Assert.Contains("PUT /3.0/lists/l1/members/abc", dead.Request, StringComparison.Ordinal);
        var attempt = Assert.Single((await _store.ListDeliveryAttemptsAsync([dead.Id], None))[dead.Id]);
        Assert.Equal(("permanent", 400, "Member In Compliance State"), (attempt.Outcome, attempt.Status, attempt.Error));

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        Assert.Single(mc.Calls);
    }

    [Fact]
    public async Task TransientFailures_AreRetriedUntilTheRetryWindowCloses_ThenDead()
    {
        var hook = new ScriptedConnector(Drafts.Destination("hook", DestinationTypes.Webhook, maxAge: TimeSpan.FromMinutes(1),
            baseDelay: TimeSpan.FromSeconds(4))).Always(ScriptedConnector.Transient(502, "Bad Gateway"));
        var options = Options();
        options.BreakerThreshold = 1000;
        var dispatcher = await StartAsync(options, hook);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);
        var start = _time.GetUtcNow();

        for (var i = 0; i < 20 && (await RowAsync("e1")).State != DeliveryStates.Dead; i++)
        {
            await dispatcher.PumpAsync(None);
            await AdvanceToNextAttemptAsync("e1");
        }
        var dead = await RowAsync("e1");
        Assert.Equal(DeliveryStates.Dead, dead.State);
        Assert.Contains("retry window", dead.DeadReason, StringComparison.Ordinal);
        var log = (await _store.ListDeliveryAttemptsAsync([dead.Id], None))[dead.Id];
        // 4 s, 8 s, 16 s, then capped at the window's end (60 s): five attempts.
        Assert.Equal([0L, 4000L, 12000L, 28000L, 60000L], log.Select(a => a.StartedAt - start.ToUnixTimeMilliseconds()));
        Assert.All(log, a => Assert.Equal((502, "Bad Gateway"), (a.Status, a.Error)));
    }

    [Fact]
    public async Task Replay_DeliversADeadTaskOnce_WithTheSameIdempotencyKey_AndReplayingAgainDoesNothing()
    {
        var hook = new ScriptedConnector(Drafts.Destination("hook", DestinationTypes.Webhook)).Then(ScriptedConnector.Permanent(410, "Gone"));
        var dispatcher = await StartAsync(Options(), hook);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "evt_1")], None);
        await dispatcher.PumpAsync(None);
        var dead = await RowAsync("evt_1");
        Assert.Equal(DeliveryStates.Dead, dead.State);

        Assert.Equal(1, await _store.ReplayDeadAsync(new ReplayFilter([dead.Id], null, null, null), None));
        Assert.Equal(1, await dispatcher.PumpAsync(None));
        Assert.Equal(0, await _store.ReplayDeadAsync(new ReplayFilter([dead.Id], null, null, null), None));
        Assert.Equal(0, await _store.ReplayDeadAsync(new ReplayFilter(null, "hook", null, null), None));
        Assert.Equal(0, await dispatcher.PumpAsync(None));

        Assert.Equal(DeliveryStates.Succeeded, (await RowAsync("evt_1")).State);
        Assert.Equal(["hook:evt_1", "hook:evt_1"], hook.Calls.Select(c => c.IdempotencyKey));
        Assert.Equal("evt_1", hook.Calls.Last().Event!.Id);
    }

    [Fact]
    public async Task Breaker_OpensAfterSustainedFailures_TasksWaitWithoutBurningAttempts_ThenAProbeClosesIt()
    {
        var kit = new ScriptedConnector(Drafts.Destination("kit", DestinationTypes.Webhook))
            .Then(Enumerable.Repeat(ScriptedConnector.Transient(), 4).ToArray());
        var options = Options(jitter: 0.001, batch: 1);
        options.BreakerThreshold = 3;
        options.BreakerOpenFor = TimeSpan.FromSeconds(30);
        var dispatcher = await StartAsync(options, kit);
        await _store.EnqueueDeliveriesAsync(Enumerable.Range(1, 5).Select(i => Drafts.Event("kit", $"p{i}", $"e{i}")).ToList(), None);

        Assert.Equal(3, await dispatcher.PumpAsync(None));
        Assert.Equal(CircuitState.Open, dispatcher.Runtime("kit")!.Breaker.State);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        Assert.Equal(["e4", "e5"], (await _store.ListDeliveriesAsync(new DeliveryQuery("kit", null, null, 0, 100), None)).Items
            .Where(r => r.Attempts == 0).Select(r => r.EventId));
        Assert.Equal("open", (await dispatcher.StatusAsync(None)).Single().State);

        // The first probe fails: open again, one call only.
        _time.Advance(TimeSpan.FromSeconds(21));
        Assert.Equal(1, await dispatcher.PumpAsync(None));
        Assert.Equal(CircuitState.Open, dispatcher.Runtime("kit")!.Breaker.State);
        Assert.Equal(4, kit.Calls.Count);

        // The next probe succeeds: closed, and everything waiting goes.
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(5, await dispatcher.PumpAsync(None));
        Assert.Equal(CircuitState.Closed, dispatcher.Runtime("kit")!.Breaker.State);
        Assert.All((await _store.ListDeliveriesAsync(new DeliveryQuery("kit", null, null, 0, 100), None)).Items,
            r => Assert.Equal(DeliveryStates.Succeeded, r.State));
    }

    [Fact]
    public async Task Pause_HoldsWork_AndResume_DeliversItInPerPersonOrder()
    {
        var hook = new ScriptedConnector(Drafts.Destination("hook", DestinationTypes.Webhook));
        var dispatcher = await StartAsync(Options(), hook);
        await _store.PauseDestinationAsync("hook", "migration", None);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1"), Drafts.Event("hook", "p2", "e2"),
            Drafts.Event("hook", "p1", "e3"), Drafts.Event("hook", "p1", "e4")], None);

        Assert.Equal(0, await dispatcher.PumpAsync(None));
        Assert.Equal(4, (await _store.ListDeliveriesAsync(new DeliveryQuery("hook", DeliveryStates.Held, null, 0, 100), None)).Items.Count);
        Assert.Equal("paused", (await dispatcher.StatusAsync(None)).Single().State);

        await _store.ResumeDestinationAsync("hook", None);
        Assert.Equal(4, await dispatcher.PumpAsync(None));
        Assert.Equal(["e1", "e3", "e4"], hook.Calls.Where(c => c.PersonId == "p1").Select(c => c.Event!.Id));
    }

    [Fact]
    public async Task StateTask_GetsTheDesiredStateAndWhatWasLastSynced()
    {
        var kit = new ScriptedConnector(Drafts.Destination("kit"));
        var dispatcher = await StartAsync(Options(), kit);
        await _store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1", "buyer")], None);
        await dispatcher.PumpAsync(None);
        await _store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1", "buyer", "vip"), Drafts.State("kit", "p1", "vip")], None);
        await dispatcher.PumpAsync(None);

        var calls = kit.Calls.ToList();
        Assert.Equal(2, calls.Count);
        Assert.Null(calls[0].LastSynced);
        Assert.Equal(["buyer"], calls[0].Desired!.Tags);
        Assert.Equal(["buyer"], calls[1].LastSynced!.Tags);
        Assert.Equal(["vip"], calls[1].Desired!.Tags);
        Assert.Equal(["vip"], DeliveryPlanner.DeserializeDesired((await _store.GetSyncedAsync("kit", "p1", None))!).Tags);
    }

    [Fact]
    public async Task RateLimit_SendsNoFasterThanTheDestinationsTokenBucket()
    {
        var hook = new ScriptedConnector(Drafts.Destination("hook", DestinationTypes.Webhook, rateLimit: 2));
        var dispatcher = await StartAsync(Options(), hook);
        await _store.EnqueueDeliveriesAsync(Enumerable.Range(1, 10).Select(i => Drafts.Event("hook", $"p{i}", $"e{i}")).ToList(), None);

        Assert.Equal(2, await dispatcher.PumpAsync(None));
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(1, await dispatcher.PumpAsync(None));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, await dispatcher.PumpAsync(None));
    }

    [Fact]
    public async Task RateLimit_HoldsForTwoNodesTogether_NotPerNode()
    {
        // Two dispatchers (two nodes: each its own in-memory bucket) on one store and one clock.
        var config = Drafts.Destination("hook", DestinationTypes.Webhook, rateLimit: 4);
        var first = new ScriptedConnector(config);
        var second = new ScriptedConnector(config);
        var nodeA = await StartAsync(Options(), first);
        var optionsB = Options();
        optionsB.WorkerId = "other";
        using var nodeB = new Dispatcher(_store, [config], [second], _time,
            new DispatchMetrics(_meters.GetRequiredService<IMeterFactory>()), optionsB, NullLogger<Dispatcher>.Instance);
        await _store.EnqueueDeliveriesAsync(Enumerable.Range(1, 200).Select(i => Drafts.Event("hook", $"p{i}", $"e{i}")).ToList(), None);

        var sent = 0;
        var perSecond = new List<int>();
        for (var s = 0; s < 10; s++)
        {
            var thisSecond = 0;
            for (var tick = 0; tick < 10; tick++)
            {
                // Whichever asks first gets the token: they take turns at being first.
                var (one, other) = tick % 2 == 0 ? (nodeA, nodeB) : (nodeB, nodeA);
                thisSecond += await one.PumpAsync(None);
                thisSecond += await other.PumpAsync(None);
                _time.Advance(TimeSpan.FromMilliseconds(100));
            }
            perSecond.Add(thisSecond);
            sent += thisSecond;
        }
        // Burst (4) plus 4 per second over 10 s; each node alone would have sent that much.
        Assert.InRange(sent, 40, 44);
        Assert.All(perSecond.Skip(1), n => Assert.InRange(n, 3, 5));
        Assert.True(!first.Calls.IsEmpty && !second.Calls.IsEmpty, "both nodes send");
        Assert.Equal(sent, first.Calls.Count + second.Calls.Count);
        // Tasks a node claimed but had no token for went back unattempted.
        var rows = (await _store.ListDeliveriesAsync(new DeliveryQuery(null, null, null, 0, 1000), None)).Items;
        Assert.Equal(sent, rows.Count(r => r.State == DeliveryStates.Succeeded));
        Assert.All(rows.Where(r => r.State == DeliveryStates.Pending), r => Assert.Equal(0, r.Attempts));
    }

    /// <summary>The store, with its completions failing while <see cref="FailCompletions"/> is set (the database went away mid-round).</summary>
    public class CompletionFailingStore : System.Reflection.DispatchProxy
    {
        public IJunctionStore Inner { get; set; } = null!;
        public bool FailCompletions { get; set; }

        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
        {
            if (FailCompletions && targetMethod!.Name == nameof(IJunctionStore.CompleteDeliveriesAsync))
            {
                return Task.FromException<IReadOnlyList<bool>>(new InvalidOperationException("the database went away"));
            }
            return targetMethod!.Invoke(Inner, args);
        }
    }

    [Fact]
    public async Task ACompletionThatFails_StopsTheRoundsHeartbeat_SoTheLeaseRunsOutAndAnotherNodeRetries()
    {
        await _store.MigrateAsync(None);
        var failing = System.Reflection.DispatchProxy.Create<IJunctionStore, CompletionFailingStore>();
        var proxy = (CompletionFailingStore)(object)failing;
        proxy.Inner = _store;
        proxy.FailCompletions = true;
        var hook = new ScriptedConnector(Drafts.Destination("hook", DestinationTypes.Webhook));
        var options = Options();
        options.Lease = TimeSpan.FromSeconds(30);
        using var dispatcher = new Dispatcher(failing, [hook.Config], [hook], _time,
            new DispatchMetrics(_meters.GetRequiredService<IMeterFactory>()), options, NullLogger<Dispatcher>.Instance);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);

        await dispatcher.PumpAsync(None);
        Assert.Single(hook.Calls);
        // A heartbeat still running would renew the lease every 10 s from here on.
        for (var i = 0; i < 12; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(20);
        }
        var retried = Assert.Single(await _store.ClaimDeliveriesAsync("hook", "another-node", 10, TimeSpan.FromSeconds(30), None));
        Assert.Equal("e1", retried.EventId);
    }

    [Fact]
    public async Task AConnectorThatThrows_IsATransientFailure_NotACrash()
    {
        var hook = new ScriptedConnector(Drafts.Destination("hook", DestinationTypes.Webhook))
            .Always(_ => throw new HttpRequestException("connection refused"));
        var dispatcher = await StartAsync(Options(), hook);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);
        Assert.Equal(1, await dispatcher.PumpAsync(None));
        var row = await RowAsync("e1");
        Assert.Equal(DeliveryStates.Pending, row.State);
        Assert.Contains("connection refused", row.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreadablePayload_GoesToTheDlq_WithTheReason()
    {
        var kit = new ScriptedConnector(Drafts.Destination("kit"));
        var dispatcher = await StartAsync(Options(), kit);
        await _store.EnqueueDeliveriesAsync([Drafts.State("kit", "p1") with { Payload = "{\"email\": 5" }], None);
        await dispatcher.PumpAsync(None);
        var row = await RowAsync();
        Assert.Equal(DeliveryStates.Dead, row.State);
        Assert.Contains("payload", row.DeadReason, StringComparison.Ordinal);
        Assert.Empty(kit.Calls);
    }

    [Fact]
    public async Task ASlowCall_KeepsItsLeaseByHeartbeat_SoItsResultIsRecorded()
    {
        var hook = new ScriptedConnector(Drafts.Destination("hook", DestinationTypes.Webhook));
        var options = Options();
        options.Lease = TimeSpan.FromSeconds(30);
        var dispatcher = await StartAsync(options, hook);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);
        var path = ((Junction.Storage.Sqlite.SqliteStore)_store).FilePath;
        hook.During = async _ =>
        {
            // Only the first call is slow (without the heartbeat, the reclaimed task must not loop forever here).
            if (hook.Calls.Count > 1) return;
            // The call lasts 80 s of clock time against a 30 s lease; each step waits until the heartbeat has renewed it.
            for (var step = 1; step <= 8; step++)
            {
                _time.Advance(TimeSpan.FromSeconds(10));
                var wanted = _time.GetUtcNow().ToUnixTimeMilliseconds() + 20_000;
                for (var i = 0; i < 100 && await LeaseUntilAsync(path) < wanted; i++) await Task.Delay(20);
            }
        };

        Assert.Equal(1, await dispatcher.PumpAsync(None));
        var row = await RowAsync("e1");
        Assert.Equal((DeliveryStates.Succeeded, 1), (row.State, row.Attempts));
    }

    private static DestinationConfig Batched(string id, int max, int everySeconds = 30, double rateLimit = 1000, TimeSpan? maxAge = null) =>
        Drafts.Destination(id, DestinationTypes.Webhook, rateLimit, maxAge, batch: new DeliveryBatch { Max = max, Every = TimeSpan.FromSeconds(everySeconds) });

    private async Task<string> StateOfAsync(string eventId) => (await RowAsync(eventId)).State;

    [Fact]
    public async Task BatchedDestination_HoldsEventsUntilMaxAreDue_ThenSendsThemInOneBatchRequest()
    {
        var mp = new ScriptedBatchConnector(Batched("mp", max: 3));
        var dispatcher = await StartAsync(Options(), mp);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "e1", "optin"), Drafts.Event("mp", "p2", "e2", "checkout.started")], None);

        Assert.Equal(0, await dispatcher.PumpAsync(None));
        Assert.Empty(mp.Batches);
        Assert.Empty(mp.Singles);

        _time.Advance(TimeSpan.FromSeconds(5));
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p3", "e3", "tag.added")], None);
        Assert.Equal(3, await dispatcher.PumpAsync(None));

        var batch = Assert.Single(mp.Batches);
        Assert.Equal(["e1", "e2", "e3"], batch.Select(w => w.Event!.Id).Order(StringComparer.Ordinal));
        Assert.Empty(mp.Singles);
        foreach (var id in new[] { "e1", "e2", "e3" }) Assert.Equal(DeliveryStates.Succeeded, await StateOfAsync(id));
    }

    [Fact]
    public async Task BatchedDestination_WithFewerThanMax_SendsNothingBeforeEvery_AndEverythingAfterIt()
    {
        var mp = new ScriptedBatchConnector(Batched("mp", max: 10, everySeconds: 30));
        var dispatcher = await StartAsync(Options(), mp);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "e1", "optin"), Drafts.Event("mp", "p2", "e2", "optin")], None);
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        _time.Advance(TimeSpan.FromSeconds(10));
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p3", "e3", "optin")], None);

        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        Assert.Empty(mp.Batches);
        Assert.Equal(DeliveryStates.InFlight, await StateOfAsync("e1"));

        // 30 s after the oldest was held: the whole batch goes, the younger one with it.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, await dispatcher.PumpAsync(None));
        Assert.Equal(["e1", "e2", "e3"], Assert.Single(mp.Batches).Select(w => w.Event!.Id).Order(StringComparer.Ordinal));
        Assert.Equal(0, await dispatcher.PumpAsync(None));
    }

    [Fact]
    public async Task BatchedDestination_StillSendsAPurchaseRefundOrAccessChangeAtOnce()
    {
        var mp = new ScriptedBatchConnector(Batched("mp", max: 10));
        var dispatcher = await StartAsync(Options(), mp);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "e1", "optin"), Drafts.Event("mp", "p2", "paid", "order.paid"),
            Drafts.Event("mp", "p3", "refund", "order.refunded"), Drafts.Event("mp", "p4", "grant", "access.granted")], None);

        Assert.Equal(3, await dispatcher.PumpAsync(None));
        Assert.Equal(["grant", "paid", "refund"], mp.Singles.Select(w => w.Event!.Id).Order(StringComparer.Ordinal));
        Assert.Empty(mp.Batches);
        Assert.Equal(DeliveryStates.InFlight, await StateOfAsync("e1"));
    }

    [Fact]
    public async Task BatchedDestination_APurchaseBehindAWaitingEventOfTheSamePerson_SendsTheBatchEarly_InOrder()
    {
        var mp = new ScriptedBatchConnector(Batched("mp", max: 10));
        var dispatcher = await StartAsync(Options(), mp);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "e1", "checkout.started"), Drafts.Event("mp", "p2", "e2", "optin")], None);
        Assert.Equal(0, await dispatcher.PumpAsync(None));

        _time.Advance(TimeSpan.FromSeconds(1));
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "paid", "order.paid")], None);
        Assert.Equal(3, await dispatcher.PumpAsync(None));

        Assert.Equal(["e1", "e2"], Assert.Single(mp.Batches).Select(w => w.Event!.Id).Order(StringComparer.Ordinal));
        Assert.Equal("paid", Assert.Single(mp.Singles).Event!.Id);
        Assert.Equal(DeliveryStates.Succeeded, await StateOfAsync("paid"));
    }

    [Fact]
    public async Task BatchedDestination_APerEventFailure_RetriesOrDeadLettersOnlyThatEvent()
    {
        var mp = new ScriptedBatchConnector(Batched("mp", max: 3))
        {
            Answer = w => w.Event!.Id switch
            {
                "bad" => ScriptedConnector.Permanent(400, "event rejected: $insert_id too long"),
                "flaky" => ScriptedConnector.Transient(),
                _ => DeliveryResult.Ok(["POST /import"]),
            },
        };
        var dispatcher = await StartAsync(Options(jitter: 0.5), mp);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "good", "optin"), Drafts.Event("mp", "p2", "bad", "optin"),
            Drafts.Event("mp", "p3", "flaky", "optin")], None);

        Assert.Equal(3, await dispatcher.PumpAsync(None));
        Assert.Single(mp.Batches);
        Assert.Equal(DeliveryStates.Succeeded, await StateOfAsync("good"));
        var bad = await RowAsync("bad");
        Assert.Equal((DeliveryStates.Dead, "event rejected: $insert_id too long"), (bad.State, bad.DeadReason));
        var flaky = await RowAsync("flaky");
        Assert.Equal((DeliveryStates.Pending, 1), (flaky.State, flaky.Attempts));
        // One request answered about its events: the service is up, the breaker stays closed.
        Assert.Equal(CircuitState.Closed, dispatcher.Runtime("mp")!.Breaker.State);

        // The retry waits for its backoff, then for its own batch (alone, it goes when it has waited every).
        mp.Answer = _ => DeliveryResult.Ok(["POST /import"]);
        await AdvanceToNextAttemptAsync("flaky");
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await dispatcher.PumpAsync(None));
        Assert.Equal(["flaky"], mp.Batches.Last().Select(w => w.Event!.Id));
        Assert.Equal((DeliveryStates.Succeeded, 2), ((await RowAsync("flaky")).State, (await RowAsync("flaky")).Attempts));
        Assert.Equal(DeliveryStates.Dead, await StateOfAsync("bad"));
    }

    [Fact]
    public async Task BatchedDestination_ABatchRequestCountsAsOneRequestAgainstTheRateLimit_AndA429HoldsTheBatch()
    {
        var mp = new ScriptedBatchConnector(Batched("mp", max: 5, rateLimit: 1));
        var dispatcher = await StartAsync(Options(), mp);
        await _store.EnqueueDeliveriesAsync(Enumerable.Range(1, 10).Select(i => Drafts.Event("mp", $"p{i}", $"e{i}", "optin")).ToList(), None);

        // A rate limit of 1/s: one request of 5 events, then the next waits for its token.
        Assert.Equal(5, await dispatcher.PumpAsync(None));
        Assert.Single(mp.Batches);
        _time.Advance(TimeSpan.FromSeconds(1));
        mp.Answer = _ => ScriptedConnector.RateLimited(TimeSpan.FromSeconds(20));
        Assert.Equal(5, await dispatcher.PumpAsync(None));
        Assert.Equal(2, mp.Batches.Count);
        Assert.All((await _store.ListDeliveriesAsync(new DeliveryQuery("mp", DeliveryStates.Pending, null, 0, 100), None)).Items,
            r => Assert.Equal(0, r.Attempts));

        mp.Answer = _ => DeliveryResult.Ok(["POST /import"]);
        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        _time.Advance(TimeSpan.FromSeconds(1));
        // The retried events were claimed again and wait for their batch: five of them fill it at once.
        Assert.Equal(5, await dispatcher.PumpAsync(None));
        Assert.Equal(3, mp.Batches.Count);
        Assert.All((await _store.ListDeliveriesAsync(new DeliveryQuery("mp", null, null, 0, 100), None)).Items,
            r => Assert.Equal(DeliveryStates.Succeeded, r.State));
    }

    [Fact]
    public async Task BatchedDestination_WithoutABatchApi_HoldsEventsThenSendsThemOneByOne()
    {
        var hook = new ScriptedConnector(Batched("hook", max: 10));
        var dispatcher = await StartAsync(Options(), hook);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1", "optin"), Drafts.Event("hook", "p2", "e2", "optin")], None);

        Assert.Equal(0, await dispatcher.PumpAsync(None));
        Assert.Empty(hook.Calls);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await dispatcher.PumpAsync(None));
        Assert.Equal(["e1", "e2"], hook.Calls.Select(c => c.Event!.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task BatchedDestination_WaitingEventsKeepTheirLeases_SoAnotherNodeDoesNotSendThemToo()
    {
        var mp = new ScriptedBatchConnector(Batched("mp", max: 10, everySeconds: 300));
        var options = Options();
        options.Lease = TimeSpan.FromSeconds(60);
        var dispatcher = await StartAsync(options, mp);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "e1", "optin")], None);
        Assert.Equal(0, await dispatcher.PumpAsync(None));

        for (var i = 0; i < 14; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(20));
            await dispatcher.PumpAsync(None);
            Assert.Empty(await _store.ClaimDeliveriesAsync("mp", "other-node", 10, TimeSpan.FromSeconds(60), None));
        }
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(1, await dispatcher.PumpAsync(None));
        Assert.Equal((DeliveryStates.Succeeded, 1), ((await RowAsync("e1")).State, (await RowAsync("e1")).Attempts));
    }

    [Fact]
    public async Task BatchedDestination_PausedWhileEventsWait_HoldsThemUnsent_AndResumeSendsThem()
    {
        var mp = new ScriptedBatchConnector(Batched("mp", max: 10));
        var dispatcher = await StartAsync(Options(), mp);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "e1", "optin")], None);
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        await _store.PauseDestinationAsync("mp", "migration", None);

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        Assert.Empty(mp.Batches);
        var held = await RowAsync("e1");
        Assert.Equal((DeliveryStates.Held, 0), (held.State, held.Attempts));

        await _store.ResumeDestinationAsync("mp", None);
        Assert.Equal(0, await dispatcher.PumpAsync(None));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await dispatcher.PumpAsync(None));
        Assert.Equal((DeliveryStates.Succeeded, 1), ((await RowAsync("e1")).State, (await RowAsync("e1")).Attempts));
    }

    [Fact]
    public async Task BatchedDestination_Stopping_GivesWaitingEventsBackToTheQueue_Unattempted()
    {
        var mp = new ScriptedBatchConnector(Batched("mp", max: 10));
        var dispatcher = await StartAsync(Options(), mp);
        await _store.EnqueueDeliveriesAsync([Drafts.Event("mp", "p1", "e1", "optin")], None);
        await dispatcher.StartAsync(None);
        for (var i = 0; i < 250 && (await RowAsync("e1")).State != DeliveryStates.InFlight; i++) await Task.Delay(20);
        Assert.Equal(DeliveryStates.InFlight, (await RowAsync("e1")).State);

        await dispatcher.StopAsync(None);
        var row = await RowAsync("e1");
        Assert.Equal((DeliveryStates.Pending, 0, (long?)null), (row.State, row.Attempts, row.FirstAttemptAt));
        Assert.Empty(mp.Batches);
        // Another node claims it at once rather than after the lease.
        Assert.Single(await _store.ClaimDeliveriesAsync("mp", "other-node", 10, TimeSpan.FromSeconds(60), None));
    }

    private static async Task<long> LeaseUntilAsync(string path)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(MAX(lease_until), 0) FROM deliveries";
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
