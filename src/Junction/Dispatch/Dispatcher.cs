using System.Text.Json;
using Junction.Normalize;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Dispatch;

/// <summary>One destination's health, as GET /v1/destinations shows it.</summary>
public sealed record DestinationStatus(
    string Id, string Type, string State, long QueueDepth, long InFlight, long Held, long Dead,
    double? SuccessRate5m, string? LastError, double SendRate);

/// <summary>
/// Claims due tasks per destination and hands them to its connector, one attempt per claim:
/// success records the sync; a 429 reschedules at Retry-After without counting an attempt and holds
/// the destination; a transient failure backs off (exponential, full jitter) until the retry window
/// closes; a permanent one goes to the DLQ at once. Everything durable is in the store, so a restart
/// (or another node) carries on where this one stopped.
/// </summary>
public sealed class Dispatcher : BackgroundService
{
    private readonly IJunctionStore _store;
    private readonly TimeProvider _time;
    private readonly DispatchMetrics _metrics;
    private readonly DispatchOptions _options;
    private readonly ILogger<Dispatcher> _logger;
    private readonly Dictionary<string, DestinationRuntime> _destinations;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private static readonly TimeSpan SnapshotEvery = TimeSpan.FromSeconds(1);
    private DateTimeOffset _lastSnapshot = DateTimeOffset.MinValue;
    private readonly Telemetry.JunctionMetrics? _business;

    public Dispatcher(IJunctionStore store, IEnumerable<DestinationConfig> destinations, IEnumerable<IDestinationConnector> connectors,
        TimeProvider time, DispatchMetrics metrics, DispatchOptions options, ILogger<Dispatcher> logger, Telemetry.JunctionMetrics? business = null)
    {
        _store = store;
        _business = business;
        _time = time;
        _metrics = metrics;
        _options = options;
        _logger = logger;
        var byId = new Dictionary<string, IDestinationConnector>(StringComparer.Ordinal);
        foreach (var c in connectors) byId[c.Config.Id] = c;
        _destinations = new Dictionary<string, DestinationRuntime>(StringComparer.Ordinal);
        foreach (var d in destinations)
        {
            _destinations[d.Id] = new DestinationRuntime(byId.TryGetValue(d.Id, out var c) ? c : null, d, options, time);
        }
        foreach (var (id, c) in byId)
        {
            if (!_destinations.ContainsKey(id)) _destinations[id] = new DestinationRuntime(c, c.Config, options, time);
        }
        foreach (var d in _destinations.Values.Where(d => d.Connector is null)) DispatchLog.NoConnector(logger, d.Config.Id);
    }

    public IReadOnlyCollection<string> Destinations => _destinations.Keys;

    public bool IsKnown(string destination) => _destinations.ContainsKey(destination);

    public DestinationRuntime? Runtime(string destination) => _destinations.GetValueOrDefault(destination);

    /// <summary>New drafts, a resume or a replay: look at the outbox now rather than at the next poll.</summary>
    public void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0) _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await PumpAsync(stoppingToken);
                    if (_destinations.Count > 0 && _time.GetUtcNow() - _lastSnapshot >= SnapshotEvery)
                    {
                        _lastSnapshot = _time.GetUtcNow();
                        await SnapshotAsync(stoppingToken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The store is unreachable or a query failed: nothing is lost (the outbox is durable); try again next round.
                    DispatchLog.RoundFailed(_logger, "*", ex);
                }
                var delay = _options.PollInterval;
                var now = _time.GetUtcNow();
                foreach (var d in _destinations.Values)
                {
                    if (d.HoldUntil > now && d.HoldUntil - now < delay) delay = d.HoldUntil - now;
                    if (d.SharedWaitUntil > now && d.SharedWaitUntil - now < delay) delay = d.SharedWaitUntil - now;
                    if (d.Available() == 0 && d.NextToken > now && d.NextToken - now < delay) delay = d.NextToken - now;
                    if (d.BatchDue is { } due && due > now && due - now < delay) delay = due - now;
                }
                using var timeout = new CancellationTokenSource(delay, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
                try
                {
                    await _wake.WaitAsync(linked.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // Poll interval passed.
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            await ReleaseAllWaitingAsync();
        }
    }

    /// <summary>
    /// On the way out: events waiting for a batch go back to the queue so the next node (or this one
    /// restarted) picks them up at once rather than after their leases run out.
    /// </summary>
    private async Task ReleaseAllWaitingAsync()
    {
        foreach (var d in _destinations.Values.Where(d => d.Waiting.Count > 0))
        {
            try
            {
                await ReleaseWaitingAsync(d, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // Their leases run out instead: nothing is lost, only later.
                DispatchLog.RoundFailed(_logger, d.Config.Id, ex);
            }
        }
    }

    /// <summary>One round over every destination: sends everything due now (within rate limits and breakers). Returns the attempts made.</summary>
    public async Task<int> PumpAsync(CancellationToken cancellationToken)
    {
        var attempts = 0;
        foreach (var d in _destinations.Values)
        {
            try
            {
                attempts += await PumpAsync(d, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                DispatchLog.RoundFailed(_logger, d.Config.Id, ex);
            }
        }
        return attempts;
    }

    private async Task<int> PumpAsync(DestinationRuntime d, CancellationToken cancellationToken)
    {
        if (d.Connector is null) return 0;
        var batched = d.Config.Batch is not null;
        var attempts = 0;
        if (batched) attempts += await SendBatchesAsync(d, cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_time.GetUtcNow() < d.HoldUntil || _time.GetUtcNow() < d.SharedWaitUntil) break;
            var available = d.Available();
            if (available == 0) break;
            // Enough waiting to fill the batches the rate limit allows: claim no more until they go.
            if (batched && d.Waiting.Count >= Math.Max(d.Config.Batch!.Max, _options.BatchSize)) break;
            if (!d.Breaker.TryEnter(out var probe)) break;
            var limit = probe ? 1 : Math.Min(available, _options.BatchSize);
            IReadOnlyList<ClaimedDelivery> claimed;
            try
            {
                claimed = await _store.ClaimDeliveriesAsync(d.Config.Id, _options.WorkerId, limit, _options.Lease, cancellationToken);
            }
            catch
            {
                if (probe) d.Breaker.ReleaseProbe();
                throw;
            }
            if (claimed.Count == 0)
            {
                if (probe) d.Breaker.ReleaseProbe();
                break;
            }
            var now = _time.GetUtcNow();
            var send = new List<ClaimedDelivery>(claimed.Count);
            foreach (var c in claimed)
            {
                if (batched && Batchable(c))
                {
                    if (d.Waiting.Count == 0) d.WaitingRenewed = now;
                    d.Waiting.Add((c, now));
                }
                else
                {
                    send.Add(c);
                }
            }
            if (send.Count > 0)
            {
                // The cluster's bucket decides how many of them go now; the rest go back to the queue unattempted.
                int granted;
                try
                {
                    granted = await TakeSharedAsync(d, send.Count, cancellationToken);
                }
                catch
                {
                    if (probe) d.Breaker.ReleaseProbe();
                    await TryReleaseAsync(d, send);
                    throw;
                }
                if (granted < send.Count)
                {
                    await _store.ReleaseDeliveriesAsync([.. send.Skip(granted).Select(c => c.Id)], _options.WorkerId, cancellationToken);
                    send.RemoveRange(granted, send.Count - granted);
                }
            }
            if (probe && send.Count == 0) d.Breaker.ReleaseProbe();
            foreach (var _ in send) d.TryTake();
            if (send.Count > 0)
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var heartbeat = HeartbeatAsync(d.Config.Id, send.Select(c => c.Id).ToList(), stop.Token);
                try
                {
                    await Task.WhenAll(send.Select(c => AttemptAsync(d, c, cancellationToken)));
                }
                finally
                {
                    // Also when a completion failed (the store went away): a heartbeat left running
                    // would renew these leases for ever and no node would ever retry the tasks.
                    await stop.CancelAsync();
                    await heartbeat;
                }
            }
            attempts += send.Count;
            if (batched) attempts += await SendBatchesAsync(d, cancellationToken);
        }
        return attempts;
    }

    /// <summary>
    /// An event task that may wait for a batch: anything but purchases, refunds and access changes
    /// (<see cref="DeliveryBatch.IsRealTime"/>). An unreadable payload does not wait: its attempt sends it to the DLQ.
    /// </summary>
    private static bool Batchable(string kind, string payload)
    {
        if (kind != DeliveryKinds.Event) return false;
        try
        {
            return !DeliveryBatch.IsRealTime(CanonicalJson.Deserialize(payload).Type);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool Batchable(ClaimedDelivery task) => Batchable(task.Kind, task.Payload);

    /// <summary>Gives the events waiting for a batch back to the queue, unattempted.</summary>
    private async Task ReleaseWaitingAsync(DestinationRuntime d, CancellationToken cancellationToken)
    {
        if (d.Waiting.Count == 0) return;
        await _store.ReleaseDeliveriesAsync([.. d.Waiting.Select(w => w.Task.Id)], _options.WorkerId, cancellationToken);
        d.Waiting.Clear();
    }

    /// <summary>
    /// <c>delivery: batch</c>: sends the waiting tasks whose batch is due — <c>max</c> of them, the oldest
    /// waited <c>every</c>, or a task queued behind one of them (same person) must not wait — within the
    /// rate limit (one request, one token), a 429 hold and the breaker. Renews the waiting tasks' leases.
    /// Returns the tasks attempted.
    /// </summary>
    private async Task<int> SendBatchesAsync(DestinationRuntime d, CancellationToken cancellationToken)
    {
        var batch = d.Config.Batch!;
        if (d.Waiting.Count == 0) return 0;
        var now = _time.GetUtcNow();
        if (now - d.WaitingRenewed >= _options.Lease / 3)
        {
            await _store.RenewLeasesAsync([.. d.Waiting.Select(w => w.Task.Id)], _options.WorkerId, _options.Lease, cancellationToken);
            d.WaitingRenewed = now;
        }
        var urgent = d.Waiting.Count < batch.Max && now < d.BatchDue
            && (await _store.ListDueBehindAsync(d.Config.Id, [.. d.Waiting.Select(w => w.Task.Id)], cancellationToken))
                .Any(t => !Batchable(t.Kind, t.Payload));
        var attempts = 0;
        var bulk = d.Connector as IBatchConnector;
        var pauseChecked = false;
        while (d.Waiting.Count > 0 && !cancellationToken.IsCancellationRequested)
        {
            now = _time.GetUtcNow();
            if (!urgent && d.Waiting.Count < batch.Max && now < d.BatchDue) break;
            if (!pauseChecked)
            {
                // Paused while its events waited: they are held with the rest of its queue, not sent.
                pauseChecked = true;
                var controls = await _store.ListDestinationControlAsync(cancellationToken);
                if (controls.Any(c => c.Paused && c.Destination == d.Config.Id))
                {
                    await ReleaseWaitingAsync(d, cancellationToken);
                    break;
                }
            }
            if (now < d.HoldUntil || now < d.SharedWaitUntil) break;
            var available = d.Available();
            if (available == 0) break;
            if (!d.Breaker.TryEnter(out var probe)) break;
            var size = Math.Min(batch.Max, d.Waiting.Count);
            if (bulk is null) size = probe ? 1 : Math.Min(size, available);
            else if (bulk.MaxBatch > 0) size = Math.Min(size, bulk.MaxBatch);
            int granted;
            try
            {
                // One request, one token: a bulk call wants one, single sends one each.
                granted = await TakeSharedAsync(d, bulk is null ? size : 1, cancellationToken);
            }
            catch
            {
                if (probe) d.Breaker.ReleaseProbe();
                throw;
            }
            if (granted == 0)
            {
                if (probe) d.Breaker.ReleaseProbe();
                break;
            }
            if (bulk is null) size = Math.Min(size, granted);
            var tasks = d.Waiting.Take(size).Select(w => w.Task).ToList();
            d.Waiting.RemoveRange(0, size);
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var heartbeat = HeartbeatAsync(d.Config.Id, tasks.Select(c => c.Id).ToList(), stop.Token);
                try
                {
                    if (bulk is not null)
                    {
                        d.TryTake();
                        await AttemptBatchAsync(d, bulk, tasks, cancellationToken);
                    }
                    else
                    {
                        foreach (var _ in tasks) d.TryTake();
                        await Task.WhenAll(tasks.Select(c => AttemptAsync(d, c, cancellationToken)));
                    }
                }
                finally
                {
                    await stop.CancelAsync();
                    await heartbeat;
                }
            }
            attempts += tasks.Count;
        }
        return attempts;
    }

    /// <summary>
    /// Takes up to <paramref name="want"/> tokens from the destination's cluster-wide bucket in the store,
    /// so N nodes together send at the configured rate, not N times it. Fewer than wanted: the bucket is
    /// empty and this node waits for its next token before asking again.
    /// </summary>
    private async Task<int> TakeSharedAsync(DestinationRuntime d, int want, CancellationToken cancellationToken)
    {
        var grant = await _store.TakeRateTokensAsync(d.Config.Id, d.Rate, d.Capacity, want, cancellationToken);
        if (grant.Granted < want) d.SharedEmpty(grant.Left);
        return grant.Granted;
    }

    /// <summary>Best effort: gives claimed tasks back; when the store is away too, their leases run out instead.</summary>
    private async Task TryReleaseAsync(DestinationRuntime d, IReadOnlyList<ClaimedDelivery> tasks)
    {
        try
        {
            await _store.ReleaseDeliveriesAsync([.. tasks.Select(c => c.Id)], _options.WorkerId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            DispatchLog.RoundFailed(_logger, d.Config.Id, ex);
        }
    }

    /// <summary>Renews the round's leases every third of the lease while its calls run, so a slow call keeps its claim.</summary>
    private async Task HeartbeatAsync(string destination, IReadOnlyList<long> ids, CancellationToken cancellationToken)
    {
        var every = _options.Lease / 3;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, _time, cancellationToken);
                await _store.RenewLeasesAsync(ids, _options.WorkerId, _options.Lease, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                DispatchLog.RoundFailed(_logger, destination, ex);
            }
        }
    }

    private async Task AttemptAsync(DestinationRuntime d, ClaimedDelivery task, CancellationToken cancellationToken)
    {
        var config = d.Config;
        using var activity = Telemetry.StageTracing.Start(Telemetry.StageTracing.Dispatch, "dispatch", task.TraceId, System.Diagnostics.ActivityKind.Client);
        activity?.SetTag("junction.destination", config.Id);
        activity?.SetTag("junction.delivery_id", task.Id);
        activity?.SetTag("junction.attempt", task.Attempt);
        var started = _time.GetUtcNow();
        var clock = _time.GetTimestamp();
        DeliveryResult result;
        string? syncedDesired = null;
        DeliveryWork? work = null;
        try
        {
            work = BuildWork(config, task);
            if (work.Desired is { } desired) syncedDesired = DeliveryPlanner.SerializeDesired(desired);
            try
            {
                result = await d.Connector!.DeliverAsync(work, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                DispatchLog.ConnectorThrew(_logger, config.Id, task.Id, ex);
                result = new DeliveryResult { Outcome = DeliveryOutcome.Transient, Error = $"connector error: {ex.GetType().Name}: {ex.Message}" };
            }
        }
        catch (JsonException ex)
        {
            result = Unreadable(ex);
        }
        activity?.SetTag("junction.outcome", Outcome(result.Outcome));
        if (result.Outcome is DeliveryOutcome.Permanent or DeliveryOutcome.Transient) activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
        await FinishAsync(d, task, work, syncedDesired, result, started, _time.GetElapsedTime(clock), countBreaker: true, cancellationToken);
    }

    private static DeliveryResult Unreadable(JsonException ex) =>
        new() { Outcome = DeliveryOutcome.Permanent, Error = $"the stored payload cannot be read: {ex.Message}" };

    /// <summary>
    /// One request for several event tasks (<see cref="IBatchConnector"/>): each task is completed,
    /// retried or dead-lettered by its own result; the breaker counts the request once.
    /// </summary>
    private async Task AttemptBatchAsync(DestinationRuntime d, IBatchConnector connector, List<ClaimedDelivery> tasks,
        CancellationToken cancellationToken)
    {
        var config = d.Config;
        using var activity = Telemetry.StageTracing.Start(Telemetry.StageTracing.Dispatch, "dispatch batch", tasks[0].TraceId,
            System.Diagnostics.ActivityKind.Client);
        activity?.SetTag("junction.destination", config.Id);
        activity?.SetTag("junction.batch_size", tasks.Count);
        var started = _time.GetUtcNow();
        var clock = _time.GetTimestamp();
        var works = new List<(ClaimedDelivery Task, DeliveryWork Work)>(tasks.Count);
        var finishing = new List<Task>();
        foreach (var task in tasks)
        {
            try
            {
                works.Add((task, BuildWork(config, task)));
            }
            catch (JsonException ex)
            {
                finishing.Add(FinishAsync(d, task, null, null, Unreadable(ex), started, TimeSpan.Zero, countBreaker: false, cancellationToken));
            }
        }
        if (works.Count > 0)
        {
            IReadOnlyList<DeliveryResult> results;
            try
            {
                results = await connector.DeliverBatchAsync([.. works.Select(w => w.Work)], cancellationToken);
                if (results.Count != works.Count)
                {
                    var wrong = new DeliveryResult
                    {
                        Outcome = DeliveryOutcome.Transient,
                        Error = $"connector error: {results.Count} results for a batch of {works.Count} events",
                    };
                    results = [.. works.Select(_ => wrong)];
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                DispatchLog.ConnectorThrew(_logger, config.Id, works[0].Task.Id, ex);
                var failed = new DeliveryResult { Outcome = DeliveryOutcome.Transient, Error = $"connector error: {ex.GetType().Name}: {ex.Message}" };
                results = [.. works.Select(_ => failed)];
            }
            var elapsed = _time.GetElapsedTime(clock);
            // One request, one verdict on the service: any answer about an event means it is up.
            if (results.Any(r => r.Outcome is DeliveryOutcome.Succeeded or DeliveryOutcome.Permanent)) TrackBreaker(d, d.Breaker.OnAnswered);
            else if (results.Any(r => r.Outcome == DeliveryOutcome.RateLimited)) d.Breaker.OnNeutral();
            else TrackBreaker(d, d.Breaker.OnFailure);
            if (results.Any(r => r.Outcome is DeliveryOutcome.Permanent or DeliveryOutcome.Transient)) activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
            for (var i = 0; i < works.Count; i++)
            {
                finishing.Add(FinishAsync(d, works[i].Task, works[i].Work, null, results[i], started, elapsed, countBreaker: false, cancellationToken));
            }
        }
        else
        {
            // Nothing was sent: a probe slot taken for this batch is free again.
            d.Breaker.ReleaseProbe();
        }
        await Task.WhenAll(finishing);
    }

    /// <summary>Records one task's attempt and moves it on: succeeded, retried at its backoff or Retry-After, or dead.</summary>
    private async Task FinishAsync(DestinationRuntime d, ClaimedDelivery task, DeliveryWork? work, string? syncedDesired, DeliveryResult result,
        DateTimeOffset started, TimeSpan elapsed, bool countBreaker, CancellationToken cancellationToken)
    {
        var config = d.Config;
        var now = _time.GetUtcNow();
        _metrics.Attempt(config.Id, result.Outcome, elapsed.TotalSeconds);
        // An API's error often quotes the address it refused: masked before it is kept, shown or logged.
        var apiError = Pii.Redact(result.Error);
        d.Record(result.Outcome, apiError ?? (result.Status is { } st ? $"status {st}" : null));

        var error = Truncate(apiError ?? (result.Outcome == DeliveryOutcome.Succeeded ? null : Pii.Redact(result.Response)), 2000);
        var record = new DeliveryAttemptRecord(task.Attempt, started.ToUnixTimeMilliseconds(), (long)elapsed.TotalMilliseconds,
            Outcome(result.Outcome), result.Status, error);
        var request = result.Requests.Count == 0 ? null : Truncate(string.Join('\n', result.Requests), 16_000);
        if (work?.Erase is { } erase)
        {
            // An erasure's requests name the address (Kit finds a subscriber by it): never kept.
            request = Erasure.Redaction.Scrub(request, erase.Emails);
            error = Erasure.Redaction.Scrub(error, erase.Emails);
        }
        var completion = new DeliveryCompletion(task.Id, _options.WorkerId, DeliveryStates.Pending, record,
            Error: error, Status: result.Status, Request: request);

        switch (result.Outcome)
        {
            case DeliveryOutcome.Succeeded:
                if (countBreaker) TrackBreaker(d, d.Breaker.OnAnswered);
                completion = completion with { State = DeliveryStates.Succeeded, SyncedDesired = syncedDesired, Error = null };
                break;
            case DeliveryOutcome.RateLimited:
                if (countBreaker) d.Breaker.OnNeutral();
                var wait = result.RetryAfter is { } ra && ra > TimeSpan.Zero ? ra : _options.DefaultRetryAfter;
                if (wait > _options.MaxBackoff) wait = _options.MaxBackoff;
                d.Hold(now + wait);
                DispatchLog.RateLimited(_logger, config.Id, wait.TotalSeconds);
                completion = completion with { NextAttemptAt = (now + wait).ToUnixTimeMilliseconds(), CountAttempt = false };
                break;
            case DeliveryOutcome.Permanent:
                if (countBreaker) TrackBreaker(d, d.Breaker.OnAnswered);
                completion = completion with { State = DeliveryStates.Dead, DeadReason = error ?? $"permanent error (status {result.Status})" };
                break;
            default:
                if (countBreaker) TrackBreaker(d, d.Breaker.OnFailure);
                var first = DateTimeOffset.FromUnixTimeMilliseconds(task.FirstAttemptAt);
                var deadline = first + config.RetryMaxAge;
                if (now >= deadline)
                {
                    completion = completion with
                    {
                        State = DeliveryStates.Dead,
                        DeadReason = $"still failing after the retry window of {config.RetryMaxAge}: {error ?? "transient error"}",
                    };
                }
                else
                {
                    var next = now + Backoff(config.RetryBaseDelay, task.Attempt);
                    // One last attempt when the window closes rather than none at all.
                    if (next > deadline) next = deadline;
                    completion = completion with { NextAttemptAt = next.ToUnixTimeMilliseconds() };
                }
                break;
        }

        if (!await CompleteAsync(completion, cancellationToken))
        {
            DispatchLog.LeaseLost(_logger, task.Id, config.Id);
            return;
        }
        if (task.Kind == DeliveryKinds.Erase && completion.State == DeliveryStates.Succeeded && task.EventId is { } erasureId)
        {
            // The last destination confirmed: the key goes, and with it every sealed copy of the address.
            await _store.ShredErasureKeyAsync(erasureId, cancellationToken);
        }
        if (completion.State == DeliveryStates.Dead)
        {
            _metrics.Dead(config.Id);
            DispatchLog.Dead(_logger, task.Id, config.Id, completion.DeadReason!);
            await CountFailedEnrollmentsAsync(config.Id, task, work, cancellationToken);
        }
    }

    /// <summary>
    /// A state delivery that went dead while it carried courses the destination did not have yet:
    /// those enrollments failed. A test person's (a smoke run's) are not counted.
    /// </summary>
    private async Task CountFailedEnrollmentsAsync(string destination, ClaimedDelivery task, DeliveryWork? work, CancellationToken cancellationToken)
    {
        if (_business is null || work?.Desired is not { } desired || desired.Courses.Count == 0) return;
        var added = desired.Courses.Except(work.LastSynced?.Courses ?? [], StringComparer.Ordinal).Count();
        if (added == 0) return;
        try
        {
            if (_store is RelationalStore relational && await relational.GetPersonAsync(task.PersonId, cancellationToken) is { State: { } json })
            {
                using var state = JsonDocument.Parse(json);
                if (state.RootElement.TryGetProperty("test", out var test) && test.ValueKind == JsonValueKind.True) return;
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or JsonException)
        {
            // Counting errs towards an alert rather than a silent miss.
            DispatchLog.RoundFailed(_logger, destination, ex);
        }
        _business.EnrollmentsFailed(destination, added);
    }

    // Group commit for completions: attempts that finish while a commit is running are written
    // together by the next one, so a round of 64 costs a couple of transactions, not 64 (on SQLite
    // every transaction queues behind the one writer). bench/e2e.sh showed rounds waiting ~100 ms
    // on one-at-a-time completions while each attempt took ~8 ms.
    private readonly Lock _completionGate = new();
    private List<(DeliveryCompletion Completion, TaskCompletionSource<bool> Done)> _completions = [];
    private bool _completing;

    private async Task<bool> CompleteAsync(DeliveryCompletion completion, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool lead;
        lock (_completionGate)
        {
            _completions.Add((completion, done));
            lead = !_completing;
            if (lead) _completing = true;
        }
        if (!lead) return await done.Task;
        while (true)
        {
            List<(DeliveryCompletion Completion, TaskCompletionSource<bool> Done)> batch;
            lock (_completionGate)
            {
                if (_completions.Count == 0)
                {
                    _completing = false;
                    break;
                }
                batch = _completions;
                _completions = [];
            }
            try
            {
                var results = await _store.CompleteDeliveriesAsync([.. batch.Select(b => b.Completion)], cancellationToken);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
            }
            catch (Exception ex)
            {
                foreach (var b in batch) b.Done.TrySetException(ex);
            }
        }
        return await done.Task;
    }

    private void TrackBreaker(DestinationRuntime d, Action apply)
    {
        var before = d.Breaker.State;
        apply();
        var after = d.Breaker.State;
        if (before != CircuitState.Open && after == CircuitState.Open && before == CircuitState.Closed)
        {
            DispatchLog.CircuitOpened(_logger, d.Config.Id, d.Breaker.ConsecutiveFailures);
        }
        else if (before != CircuitState.Closed && after == CircuitState.Closed)
        {
            DispatchLog.CircuitClosed(_logger, d.Config.Id);
        }
    }

    /// <summary>Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, min(cap, base·2^(attempt-1))].</summary>
    public TimeSpan Backoff(TimeSpan baseDelay, int attempt)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 40);
        var ceiling = Math.Min(_options.MaxBackoff.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(_options.Jitter.NextDouble() * ceiling);
    }

    /// <summary>The work a connector sees. The idempotency key of an event is stable across retries and replays.</summary>
    public static DeliveryWork BuildWork(DestinationConfig config, ClaimedDelivery task)
    {
        if (task.Kind == DeliveryKinds.State)
        {
            return new DeliveryWork
            {
                TaskId = task.Id,
                PersonId = task.PersonId,
                Kind = task.Kind,
                Desired = DeliveryPlanner.DeserializeDesired(task.Payload),
                LastSynced = task.LastSynced is null ? null : DeliveryPlanner.DeserializeDesired(task.LastSynced),
                IdempotencyKey = $"{config.Id}:{task.PersonId}:{task.Id}",
                TraceId = task.TraceId,
                Attempt = task.Attempt,
            };
        }
        if (task.Kind == DeliveryKinds.Erase)
        {
            return new DeliveryWork
            {
                TaskId = task.Id,
                PersonId = task.PersonId,
                Kind = task.Kind,
                Erase = Erasure.ErasureSeal.OpenPayload(task.EventId!, task.Payload, task.SealKey),
                IdempotencyKey = $"{config.Id}:{task.EventId}",
                TraceId = task.TraceId,
                Attempt = task.Attempt,
            };
        }
        return new DeliveryWork
        {
            TaskId = task.Id,
            PersonId = task.PersonId,
            Kind = task.Kind,
            Event = CanonicalJson.Deserialize(task.Payload),
            IdempotencyKey = $"{config.Id}:{task.EventId}",
            TraceId = task.TraceId,
            Attempt = task.Attempt,
        };
    }

    /// <summary>Health per destination for the admin API.</summary>
    public async Task<IReadOnlyList<DestinationStatus>> StatusAsync(CancellationToken cancellationToken)
    {
        var backlog = (await _store.CountOpenDeliveriesAsync(cancellationToken)).ToDictionary(b => b.Destination, StringComparer.Ordinal);
        var paused = (await _store.ListDestinationControlAsync(cancellationToken)).Where(c => c.Paused).Select(c => c.Destination)
            .ToHashSet(StringComparer.Ordinal);
        var now = _time.GetUtcNow();
        return _destinations.Values.OrderBy(d => d.Config.Id, StringComparer.Ordinal).Select(d =>
        {
            var b = backlog.GetValueOrDefault(d.Config.Id) ?? new DestinationBacklog(d.Config.Id, 0, 0, 0, 0);
            var rate = d.SuccessRate();
            var state = paused.Contains(d.Config.Id) ? "paused"
                : d.Breaker.State != CircuitState.Closed ? "open"
                : d.Breaker.ConsecutiveFailures > 0 || d.HoldUntil > now || rate < 0.9 || d.Connector is null ? "degraded"
                : "healthy";
            return new DestinationStatus(d.Config.Id, d.Config.Type, state, b.Pending + b.Held, b.InFlight, b.Held, b.Dead,
                rate, d.LastError, Math.Round(d.SendRate(), 3));
        }).ToList();
    }

    /// <summary>Refreshes the queue-depth and circuit gauges (the background loop does it at most once a second).</summary>
    public async Task SnapshotAsync(CancellationToken cancellationToken)
    {
        var backlog = (await _store.CountOpenDeliveriesAsync(cancellationToken)).ToDictionary(b => b.Destination, StringComparer.Ordinal);
        _metrics.Snapshot(_destinations.Values.Select(d =>
        {
            var b = backlog.GetValueOrDefault(d.Config.Id);
            return (d.Config.Id, b is null ? 0 : b.Pending + b.Held, (int)d.Breaker.State);
        }).ToList());
    }

    private static string Outcome(DeliveryOutcome outcome) => outcome switch
    {
        DeliveryOutcome.Succeeded => "succeeded",
        DeliveryOutcome.RateLimited => "rate_limited",
        DeliveryOutcome.Permanent => "permanent",
        _ => "transient",
    };

    private static string? Truncate(string? text, int max) => text is null || text.Length <= max ? text : text[..max] + "…";

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
