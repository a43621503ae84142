using System.Text.Json;
using Junction.Canonical;
using Junction.Config;
using Junction.Dispatch;
using Junction.Identity;
using Junction.Normalize;
using Junction.State;
using Junction.Storage;

namespace Junction.Project;

/// <summary>
/// The project stage: reads canonical events from the log in order, resolves who each is about
/// (the identity graph, held in memory and restored from the store at start), folds it into that
/// person's state, and writes people, identifiers, state changes, timers and delivery drafts with
/// its cursor in one transaction. Also applies operator overrides and fires due timers, so one
/// writer owns person state. A failed commit drops the in-memory graph and cache; the next step
/// restores them from the store and retries from the stored cursor. Commits are fenced by the
/// project lease: losing it drops that state and goes back to trying to lead. An event the fold or
/// identity step throws on is found by projecting the batch one event at a time, recorded in
/// project_poison with the reason, and skipped.
/// </summary>
public sealed class Projector(
    IJunctionStore store,
    JunctionConfig config,
    TimeProvider time,
    ProjectSignal signal,
    IDeliveryPlanner planner,
    ILogger<Projector> logger,
    Dispatcher? dispatcher = null,
    Telemetry.JunctionMetrics? metrics = null,
    NormalizeSignal? intake = null) : BackgroundService
{
    /// <summary>
    /// While intake is saturated, the projector pauses this many times as long as its last step took
    /// (as the normalizer does, <see cref="Normalizer.BusyPauseFactor"/>), so that both background
    /// stages together leave intake at least half of the CPU; it catches up once the burst is over.
    /// </summary>
    public const int BusyPauseFactor = 3;

    private const int BatchSize = 500;
    private const int CacheLimit = 20_000;
    private static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(1);

    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("the projector needs the relational store", nameof(store));
    private readonly Dictionary<string, Cached> _cache = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _step = new(1, 1);
    private InMemoryIdentityGraph? _graph;

    // Hashes of erased addresses (HMAC with the install's salt) → erasure id, loaded with the graph:
    // an erasure moves the project lease on, so a leading projector reloads both after one.
    private IReadOnlyDictionary<string, string> _erased = new Dictionary<string, string>(StringComparer.Ordinal);
    private string? _erasureSalt;
    private Leadership? _lease;

    /// <summary>After a batch failed on something other than the database: project one event per step up to this seq.</summary>
    private long? _isolateThrough;
    private long _cursor;
    private long _overrideCursor;

    /// <summary>The log position projected so far.</summary>
    public long Cursor => Interlocked.Read(ref _cursor);

    /// <summary>The last override (by seq) applied.</summary>
    public long OverridesApplied => Interlocked.Read(ref _overrideCursor);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            Leadership? lead;
            try
            {
                lead = await _store.TryLeadAsync("project", stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database may be unreachable for a moment: a follower keeps trying; the host stays up.
                Observability.Log.LeadFailed(logger, "project", ex);
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
                continue;
            }
            if (lead is null)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
                continue;
            }
            await using (lead)
            {
                await LeadAsync(lead, stoppingToken);
            }
        }
    }

    /// <summary>Projects while this node holds the role; returns when it is lost (or at shutdown).</summary>
    private async Task LeadAsync(Leadership lead, CancellationToken stoppingToken)
    {
        Observability.Log.Leading(logger, lead.Role, lead.Epoch);
        await UseLeaseAsync(lead, stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    // A pause for CPU, not a domain wait: real time, like the normalizer's.
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    if (!await StepAsync(stoppingToken))
                    {
                        await signal.WaitAsync(await IdleTimeoutAsync(stoppingToken), stoppingToken);
                    }
                    else if (intake is { IntakeSaturated: true })
                    {
                        await Task.Delay(System.Diagnostics.Stopwatch.GetElapsedTime(started) * BusyPauseFactor, stoppingToken);
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (LeadershipLostException)
                {
                    // StepAsync has dropped the graph and caches; another node projects now.
                    Observability.Log.LeadershipLost(logger, lead.Role, lead.Epoch);
                    return;
                }
                catch (Exception ex)
                {
                    Observability.Log.ProjectFailed(logger, ex);
                    await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                }
            }
        }
        finally
        {
            await UseLeaseAsync(null, CancellationToken.None);
        }
    }

    /// <summary>Sets the lease that fences commits; state loaded under another lease (or none) is dropped.</summary>
    private async Task UseLeaseAsync(Leadership? lease, CancellationToken cancellationToken)
    {
        await _step.WaitAsync(cancellationToken);
        try
        {
            _lease = lease;
            _isolateThrough = null;
            DropState();
        }
        finally
        {
            _step.Release();
        }
    }

    private void DropState()
    {
        _graph = null;
        _cache.Clear();
    }

    private async Task<TimeSpan> IdleTimeoutAsync(CancellationToken cancellationToken)
    {
        var next = await _store.NextTimerDueAsync(cancellationToken);
        if (next is null) return IdleWait;
        var wait = TimeSpan.FromMilliseconds(next.Value - time.GetUtcNow().ToUnixTimeMilliseconds());
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait < IdleWait ? wait : IdleWait;
    }

    /// <summary>
    /// Projects until the log, the overrides and the due timers are all caught up. Returns the events
    /// projected. With a lease (what `junction rebuild` holds) the commits are fenced by it.
    /// </summary>
    public async Task<long> CatchUpAsync(IProgress<long>? progress, CancellationToken cancellationToken, Leadership? lease = null)
    {
        // Load under the step lock: the graph and cursor must not be loaded twice beside a running step.
        await _step.WaitAsync(cancellationToken);
        try
        {
            _lease = lease ?? _lease;
            await EnsureLoadedAsync(cancellationToken);
        }
        finally
        {
            _step.Release();
        }
        var start = Cursor;
        while (await StepAsync(cancellationToken)) progress?.Report(Cursor - start);
        return Cursor - start;
    }

    /// <summary>One batch: new canonical events, new overrides, due timers; committed together. False when there was nothing to do.</summary>
    public async Task<bool> StepAsync(CancellationToken cancellationToken)
    {
        await _step.WaitAsync(cancellationToken);
        try
        {
            await EnsureLoadedAsync(cancellationToken);
            return await StepCoreAsync(cancellationToken);
        }
        catch (IsolateException ex)
        {
            // Not the database: some event in the batch cannot be projected. The next steps take the
            // batch one event at a time, from freshly loaded state, to find and skip that event.
            DropState();
            Observability.Log.ProjectIsolating(logger, ex.InnerException!);
            return true;
        }
        catch
        {
            DropState();
            throw;
        }
        finally
        {
            _step.Release();
        }
    }

    private async Task EnsureLoadedAsync(CancellationToken cancellationToken)
    {
        if (_graph is not null) return;
        var graph = new InMemoryIdentityGraph(config.Policy.Identity);
        var snapshot = await _store.LoadIdentityAsync(cancellationToken);
        var identifiers = snapshot.Identifiers.GroupBy(i => i.PersonId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(i => i.Entry).ToList(), StringComparer.Ordinal);
        foreach (var p in snapshot.People)
        {
            graph.Restore(p.PersonId, p.FirstSeenAt, p.PrimaryEmail, p.PurchaseEmail, identifiers.GetValueOrDefault(p.PersonId) ?? []);
        }
        foreach (var (merged, into) in snapshot.Merged) graph.RestoreMerged(merged, into);
        _erased = await _store.LoadErasedEmailsAsync(cancellationToken);
        _erasureSalt = _erased.Count == 0 ? null : await _store.ErasureSaltAsync(Erasure.ErasureSeal.NewKey, cancellationToken);
        Interlocked.Exchange(ref _cursor, await _store.GetCursorAsync(RelationalStore.ProjectCursor, cancellationToken));
        Interlocked.Exchange(ref _overrideCursor, await _store.GetCursorAsync(RelationalStore.OverrideCursor, cancellationToken));
        _cache.Clear();
        _graph = graph;
    }

    private async Task<bool> StepCoreAsync(CancellationToken cancellationToken)
    {
        var graph = _graph!;
        var commit = new ProjectionCommit();
        var touched = new Dictionary<string, Touch>(StringComparer.Ordinal);

        // An operator's retry of a poisoned event is taken alone, before new events.
        ProjectRow? retry = null;
        IReadOnlyList<ProjectRow> rows;
        if (_isolateThrough is null && await _store.ReadPoisonRetriesAsync(1, cancellationToken) is [var again])
        {
            retry = again;
            rows = [again];
        }
        else
        {
            rows = await _store.ReadProjectRowsAsync(Cursor, BatchSize, cancellationToken);
            if (_isolateThrough is { } through && (rows.Count == 0 || rows[0].Seq > through)) _isolateThrough = null;
            if (_isolateThrough is not null) rows = [rows[0]];
        }
        var isolated = retry is not null || _isolateThrough is not null;

        var now = time.GetUtcNow();
        try
        {
            foreach (var row in rows) await ProjectRowAsync(row, graph, commit, touched, cancellationToken);
            if (retry is not null) commit.PoisonResolved.Add(retry.Seq);
            else if (rows.Count > 0) commit.Cursor = rows[^1].Seq;
            if (!isolated) await OverridesAndTimersAsync(graph, commit, touched, now, cancellationToken);
            if (touched.Count == 0 && commit.IsEmpty) return false;
            PlanChanges(graph, commit, touched, now, out var updates);
            var money = metrics is null ? [] : MoneyChanges(touched, updates);
            await _store.CommitProjectionAsync(commit, cancellationToken, _lease);
            if (commit.Deliveries.Count > 0) dispatcher?.Wake();
            foreach (var m in money)
            {
                if (m.Refund) metrics!.Refunded(m.Currency, m.Amount);
                else metrics!.OrderPaid(m.Currency, m.Amount);
            }
            foreach (var (person, state, digest) in updates)
            {
                person.State = state;
                person.Digest = digest;
            }
        }
        catch (Exception ex) when (rows.Count > 0 && IsPoison(ex))
        {
            if (!isolated)
            {
                _isolateThrough = rows[^1].Seq;
                throw new IsolateException(ex);
            }
            await SkipPoisonAsync(rows[0], retry is not null, ex, cancellationToken);
            return true;
        }
        if (commit.Cursor is { } cursor) Interlocked.Exchange(ref _cursor, cursor);
        if (commit.OverrideCursor is { } overrideCursor) Interlocked.Exchange(ref _overrideCursor, overrideCursor);
        graph.ClearHistory();
        if (_cache.Count > CacheLimit) _cache.Clear();
        return true;
    }

    /// <summary>
    /// What a failure that is not the database nor leadership means here: this event (or what it does
    /// to its person) breaks the fold or identity step, and would on every retry.
    /// </summary>
    private static bool IsPoison(Exception ex) =>
        ex is not (System.Data.Common.DbException or OperationCanceledException or LeadershipLostException or TimeoutException or IOException);

    /// <summary>
    /// Records the event as poison with the reason, moves the cursor past it (a new event) or leaves
    /// it poisoned (a failed retry), in one fenced commit; the half-applied graph is dropped.
    /// </summary>
    private async Task SkipPoisonAsync(ProjectRow row, bool wasRetry, Exception ex, CancellationToken cancellationToken)
    {
        DropState();
        var eventId = EventIdOf(row.Json);
        var skip = new ProjectionCommit();
        skip.Poison.Add(new PoisonWrite(row.Seq, eventId, $"{ex.GetType().Name}: {ex.Message}"));
        if (!wasRetry) skip.Cursor = row.Seq;
        await _store.CommitProjectionAsync(skip, cancellationToken, _lease);
        metrics?.Poisoned();
        Observability.Log.ProjectPoison(logger, eventId, row.Seq, ex);
    }

    private static string EventIdOf(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : "(no id)";
        }
        catch (JsonException)
        {
            return "(unreadable)";
        }
    }

    private async Task ProjectRowAsync(ProjectRow row, InMemoryIdentityGraph graph, ProjectionCommit commit, Dictionary<string, Touch> touched,
        CancellationToken cancellationToken)
    {
        using var activity = Telemetry.StageTracing.Start(Telemetry.StageTracing.Project, "project", row.TraceId);
        var e = CanonicalJson.Deserialize(row.Json);
        activity?.SetTag("junction.event_id", e.Id);
        activity?.SetTag("junction.event_type", e.Type);
        if (_erasureSalt is { } salt && new[] { e.Subject.Email, e.Subject.PreviousEmail }.OfType<string>()
                .Select(email => _erased.GetValueOrDefault(Erasure.ErasureSeal.Hash(salt, email))).FirstOrDefault(x => x is not null) is { } erasureId)
        {
            // An address someone asked to be forgotten is back (a re-import, a late webhook, or the person
            // again): projected like any event, and said so in the operations log, never silently.
            commit.ErasedReturned.Add(new ErasedReturn(e.Id, e.Source, erasureId));
        }
        var logBefore = graph.Log.Count;
        var decision = graph.Resolve(e);
        for (var i = logBefore; i < graph.Log.Count; i++) commit.Log.Add((graph.Log[i], row.Seq));
        if (decision.Conflict is { } conflict) commit.Conflicts.Add(conflict);
        if (decision.PersonId is not { } personId) return;

        // A person the graph has just created has nothing stored yet: no queries.
        var person = decision.CreatesPerson ? NewPerson(personId) : await PersonAsync(personId, cancellationToken);
        var identityChanged = decision.CreatesPerson || decision.Attach.Count > 0 || decision.Merged.Count > 0 || decision.Retire.Count > 0
            || decision.PurchaseEmail is not null || decision.PrimaryEmail is not null;
        foreach (var mergedId in decision.Merged)
        {
            var loser = await PersonAsync(mergedId, cancellationToken);
            person.Fold.Absorb(loser.Fold);
            _cache.Remove(mergedId);
            commit.Merges.Add(new MergeWrite(mergedId, personId, e.OccurredAt));
            var into = TouchOf(touched, personId, "merge", mergedId, row.TraceId);
            into.IdentityChanged = true;
            // The orders the merged person already had were counted when they were paid, not again now.
            into.PriorOrders.AddRange(loser.State?.Orders ?? []);
            if (touched.Remove(mergedId, out var merged))
            {
                into.Events.AddRange(merged.Events);
                into.PriorOrders.AddRange(merged.PriorOrders);
            }
        }
        person.Fold.Apply(e);
        commit.PersonEvents.Add((e.Id, personId, row.Seq));
        var touch = TouchOf(touched, personId, "event", e.Id, row.TraceId);
        touch.Events.Add(e);
        touch.Cause = "event";
        touch.CauseId = e.Id;
        touch.TraceId = row.TraceId ?? touch.TraceId;
        touch.IdentityChanged |= identityChanged;
    }

    private async Task OverridesAndTimersAsync(InMemoryIdentityGraph graph, ProjectionCommit commit, Dictionary<string, Touch> touched, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var overrides = await _store.LoadOverridesAsync(null, OverridesApplied, cancellationToken);
        foreach (var o in overrides)
        {
            if (graph.Canonical(o.PersonId) is { } personId)
            {
                (await PersonAsync(personId, cancellationToken)).Fold.ApplyOverride(o.Override);
                TouchOf(touched, personId, "override", o.Override.Id, null);
            }
        }
        if (overrides.Count > 0) commit.OverrideCursor = overrides[^1].Seq;

        foreach (var timer in await _store.DueTimersAsync(now.ToUnixTimeMilliseconds(), BatchSize, cancellationToken))
        {
            var personId = graph.Canonical(timer.PersonId) ?? timer.PersonId;
            await PersonAsync(personId, cancellationToken);
            TouchOf(touched, personId, "timer", timer.Key, null);
            if (graph.Person(personId) is null) commit.Timers.Add((personId, []));
        }
    }

    private void PlanChanges(InMemoryIdentityGraph graph, ProjectionCommit commit, Dictionary<string, Touch> touched, DateTimeOffset now,
        out List<(Cached Person, PersonState State, string Digest)> updates)
    {
        updates = [];
        foreach (var (personId, touch) in touched)
        {
            if (graph.Person(personId) is not { } identity) continue;
            var person = _cache[personId];
            var after = person.Fold.Snapshot(now);
            touch.Events.AddRange(LifecycleEvents.Due(person.State, after, identity));
            var (json, digest) = after.ToJsonWithDigest();
            if (digest != person.Digest || touch.IdentityChanged) commit.People.Add(new PersonWrite(identity, json, digest, touch.IdentityChanged, after));
            if (touch.Cause == "timer" || person.State is null || !after.Timers.SequenceEqual(person.State.Timers)) commit.Timers.Add((personId, after.Timers));
            if (digest != person.Digest)
            {
                var changes = StateDiff.Describe(person.State, after);
                commit.Changes.Add(new StateChangeRow(personId, now, touch.Cause, touch.CauseId, changes, digest, touch.TraceId));
            }
            // Event destinations get every new event, whether or not it changed the state; state
            // destinations get a draft only when what they should hold changed (the planner compares).
            if (digest != person.Digest || touch.Events.Count > 0)
            {
                commit.Deliveries.AddRange(planner.Plan(new PersonChange
                {
                    PersonId = personId, Identity = identity, Before = person.State, After = after, NewEvents = touch.Events, TraceId = touch.TraceId,
                }));
            }
            updates.Add((person, after, digest));
        }
    }

    private static Touch TouchOf(Dictionary<string, Touch> touched, string personId, string cause, string? causeId, string? traceId)
    {
        if (!touched.TryGetValue(personId, out var touch))
        {
            touch = new Touch { Cause = cause, CauseId = causeId, TraceId = traceId };
            touched[personId] = touch;
        }
        return touch;
    }

    private Cached NewPerson(string personId)
    {
        var cached = new Cached(new PersonFold(config.Policy));
        _cache[personId] = cached;
        return cached;
    }

    private async Task<Cached> PersonAsync(string personId, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(personId, out var cached)) return cached;
        var fold = new PersonFold(config.Policy);
        foreach (var json in await _store.LoadPersonEventsAsync(personId, cancellationToken)) fold.Apply(CanonicalJson.Deserialize(json));
        foreach (var o in await _store.LoadOverridesAsync(personId, 0, cancellationToken)) fold.ApplyOverride(o.Override);
        var stored = await _store.GetPersonAsync(personId, cancellationToken);
        cached = new Cached(fold);
        if (stored is not null && stored.PersonId == personId && stored.State is { } state)
        {
            cached.State = JsonSerializer.Deserialize<PersonState>(state, PersonState.JsonOptions);
            cached.Digest = stored.Digest;
        }
        _cache[personId] = cached;
        return cached;
    }

    private sealed class Cached(PersonFold fold)
    {
        public PersonFold Fold { get; } = fold;
        public PersonState? State { get; set; }
        public string? Digest { get; set; }
    }

    private sealed class Touch
    {
        public required string Cause { get; set; }
        public string? CauseId { get; set; }
        public string? TraceId { get; set; }
        public bool IdentityChanged { get; set; }
        public List<CanonicalEvent> Events { get; } = [];

        /// <summary>Orders of people merged into this one in this batch, as they were stored.</summary>
        public List<OrderState> PriorOrders { get; } = [];
    }

    private readonly record struct MoneyChange(bool Refund, string Currency, double Amount);

    /// <summary>
    /// The business counters of this step: orders that became paid and refunds that grew, by
    /// comparing each person's state before and after (so a duplicate fact, a refused write or a
    /// replay counts nothing). Test people, and orders whose events here are all test-mode, are left out.
    /// </summary>
    private List<MoneyChange> MoneyChanges(Dictionary<string, Touch> touched, List<(Cached Person, PersonState State, string Digest)> updates)
    {
        var changes = new List<MoneyChange>();
        var byPerson = updates.ToDictionary(u => u.Person, u => u.State);
        foreach (var (personId, touch) in touched)
        {
            if (!_cache.TryGetValue(personId, out var person) || !byPerson.TryGetValue(person, out var after) || after.Test) continue;
            var before = new Dictionary<(string, string), OrderState>();
            foreach (var o in touch.PriorOrders.Concat(person.State?.Orders ?? [])) before[(o.Source, o.OrderId)] = o;
            foreach (var order in after.Orders)
            {
                var events = touch.Events.Where(e => e.Order?.OrderId == order.OrderId && e.Source == order.Source).ToList();
                if (events.Count > 0 && events.All(e => e.TestMode)) continue;
                var currency = order.Currency ?? "unknown";
                var was = before.GetValueOrDefault((order.Source, order.OrderId));
                if (IsPaid(order.Status) && (was is null || !IsPaid(was.Status)))
                {
                    changes.Add(new MoneyChange(false, currency, Major(order.Amount ?? 0, order.Currency)));
                }
                if (order.Refunded > (was?.Refunded ?? 0))
                {
                    changes.Add(new MoneyChange(true, currency, Major(order.Refunded - (was?.Refunded ?? 0), order.Currency)));
                }
            }
        }
        return changes;
    }

    private static bool IsPaid(string status) => status is not (OrderStatuses.Pending or OrderStatuses.Failed);

    private static double Major(long minor, string? currency) => currency is null ? minor : (double)Money.ToMajor(minor, currency);

    /// <summary>A batch failed on one of its events: isolate it (see <see cref="StepAsync"/>).</summary>
    private sealed class IsolateException(Exception inner) : Exception("a projection batch failed on one of its events", inner);

    public override void Dispose()
    {
        _step.Dispose();
        base.Dispose();
    }
}

/// <summary>Plans nothing: used when no destinations are configured.</summary>
public sealed class NoDeliveries : IDeliveryPlanner
{
    public IReadOnlyList<DeliveryDraft> Plan(PersonChange change) => [];
}

public static class Planning
{
    /// <summary>The planner for a configuration: event payloads are the stored canonical JSON.</summary>
    public static IDeliveryPlanner For(JunctionConfig config) =>
        config.Destinations.Count == 0 ? new NoDeliveries() : new DeliveryPlanner([.. config.Destinations.Values], CanonicalJson.Serialize);
}
