using System.Text.Json;
using Junction.Config;
using Junction.Observability;
using Junction.Providers;
using Junction.Storage;

namespace Junction.Normalize;

/// <summary>
/// The normalize stage: reads the raw log after its cursor, maps each event with its provider's
/// mapper, and commits the outcome, the canonical events and the cursor in one transaction, so a
/// crash anywhere neither loses nor doubles an event. Thin payloads wait as pending while their
/// enrichment is fetched on a durable schedule (next_attempt_at), with backoff and Retry-After.
/// Runs on one node at a time (the store's leadership lock); every commit is fenced by the lease
/// epoch, so a node that lost the lock without noticing cannot commit beside its successor. An
/// event that throws anywhere in its normalization is quarantined with the reason; the log moves on.
/// </summary>
public sealed class Normalizer(
    IJunctionStore store,
    JunctionConfig config,
    TimeProvider time,
    IHttpClientFactory httpClients,
    NormalizeSignal signal,
    Project.ProjectSignal projectSignal,
    ILogger<Normalizer> logger,
    Telemetry.JunctionMetrics? metrics = null) : BackgroundService
{
    public const string CursorName = "normalize";
    public const string HttpClientName = "junction-enrichment";
    private const int BatchSize = 256;
    private const int MaxEnrichmentRounds = 4;

    /// <summary>How long enrichment keeps trying before the event is quarantined with the last error.</summary>
    public static readonly TimeSpan RetryWindow = TimeSpan.FromHours(72);

    /// <summary>
    /// After a batch that was not full but not tiny either (traffic is flowing), how long the
    /// normalizer lets the log fill before the next one: fewer, larger transactions instead of one
    /// per intake commit, at the cost of this much extra lag. A tiny batch (a quiet moment) is not
    /// followed by a pause, so a lone webhook is normalized at once. bench/e2e.sh showed 100 ms here
    /// set a ~100 ms floor on intake-to-destination latency.
    /// </summary>
    public static readonly TimeSpan CoalesceDelay = TimeSpan.FromMilliseconds(20);

    /// <summary>Batches smaller than this are not followed by <see cref="CoalesceDelay"/>.</summary>
    public const int CoalesceMinBatch = 8;

    /// <summary>
    /// While intake is saturated (<see cref="NormalizeSignal.IntakeSaturated"/>: webhooks queue up
    /// behind its commits), the normalizer pauses this many times as long as its last pass took, so
    /// it takes at most a quarter of the CPU and webhooks are answered first; it never stops, and it
    /// catches up at full speed as soon as the burst has passed. Steady traffic that intake keeps up
    /// with is normalized without pauses, so it is not delayed.
    /// </summary>
    public const int BusyPauseFactor = 3;

    private DriftTracker? _drift;
    private int _lastBatch;

    /// <summary>The normalize role this instance holds; its commits are fenced by it.</summary>
    private Leadership? _lease;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var lead = await store.TryLeadAsync("normalize", stoppingToken);
                if (lead is null)
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
                    continue;
                }
                Log.Leading(logger, lead.Role, lead.Epoch);
                _lease = lead;
                _drift = null;
                try
                {
                    await LeadAsync(stoppingToken);
                }
                catch (LeadershipLostException)
                {
                    // Another node normalizes now; what this one holds in memory (drift counts) is stale.
                    Log.LeadershipLost(logger, lead.Role, lead.Epoch);
                }
                finally
                {
                    _lease = null;
                    _drift = null;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Also a failed attempt to lead (database unreachable): the host stays up and tries again.
                Log.NormalizeFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(2), time, stoppingToken);
            }
        }
    }

    private async Task LeadAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            if (!await RunOnceAsync(stoppingToken))
            {
                await signal.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken);
                continue;
            }
            var pause = _lastBatch is >= CoalesceMinBatch and < BatchSize ? CoalesceDelay : TimeSpan.Zero;
            if (signal.IntakeSaturated)
            {
                var spent = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                if (spent * BusyPauseFactor > pause) pause = spent * BusyPauseFactor;
            }
            if (pause > TimeSpan.Zero) await Task.Delay(pause, stoppingToken);
        }
    }

    /// <summary>One pass: a batch from the log, then whatever pending work is due. True when it did anything.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        var fromLog = await ProcessLogAsync(cancellationToken);
        var fromPending = await ProcessPendingAsync(cancellationToken);
        return fromLog + fromPending > 0;
    }

    /// <summary>
    /// Takes the normalize role and runs passes until the log is drained and nothing pending is due
    /// (CLI use). Null when another process holds the role: a serving normalizer does the work.
    /// </summary>
    public async Task<int?> TryDrainAsync(IProgress<int>? progress, CancellationToken cancellationToken)
    {
        await using var lead = await store.TryLeadAsync("normalize", cancellationToken);
        if (lead is null) return null;
        _lease = lead;
        _drift = null;
        try
        {
            var total = 0;
            while (true)
            {
                var n = await ProcessLogAsync(cancellationToken) + await ProcessPendingAsync(cancellationToken);
                if (n == 0) return total;
                total += n;
                progress?.Report(total);
            }
        }
        finally
        {
            _lease = null;
            _drift = null;
        }
    }

    /// <summary>Like <see cref="TryDrainAsync"/>, for callers that know no other normalizer runs.</summary>
    public async Task<int> DrainAsync(IProgress<int>? progress, CancellationToken cancellationToken) =>
        await TryDrainAsync(progress, cancellationToken)
        ?? throw new InvalidOperationException("another process holds the normalize role");

    private async Task<int> ProcessLogAsync(CancellationToken cancellationToken)
    {
        _drift ??= new DriftTracker(await store.LoadDriftAsync(cancellationToken));
        var cursor = await store.GetCursorAsync(CursorName, cancellationToken);
        var batch = await store.ReadRawAfterAsync(cursor, BatchSize, cancellationToken);
        _lastBatch = batch.Count;
        if (batch.Count == 0) return 0;

        var outcomes = new List<NormalizationOutcome>(batch.Count);
        var observed = new List<(string, string, string, IReadOnlyCollection<string>)>();
        var now = time.GetUtcNow();
        foreach (var stored in batch)
        {
            using var activity = Telemetry.StageTracing.Start(Telemetry.StageTracing.Normalize, "normalize", stored.Raw.Summary.TraceId);
            activity?.SetTag("junction.raw_id", stored.Raw.Summary.Id);
            activity?.SetTag("junction.source", stored.Raw.Summary.Source);
            try
            {
                var (input, problem) = Input(stored, new Dictionary<string, string>());
                var result = problem ?? SafeMap(input!);
                // Paths first: a body the drift walk cannot read (a key that is not UTF-8) throws here,
                // before anything of this event is kept.
                IReadOnlyCollection<string>? paths = result.ProviderType is null ? null
                    : input is null ? DriftTracker.PathsOf(stored.Raw.Body, stored.Raw.ContentType) : DriftTracker.PathsOf(input);
                outcomes.Add(result is MapResult.NeedsEnrichment
                    // Enrichment is I/O: leave it to the pending loop so the log never waits on a provider.
                    ? Outcome(stored, result, NormalizationStatus.Pending, null) with { NextAttemptAt = now.ToUnixTimeMilliseconds() }
                    : Final(stored, result));
                if (paths is not null) observed.Add((stored.Raw.Summary.Source, result.ProviderType!, stored.Raw.Summary.Id, paths));
                activity?.SetTag("junction.status", outcomes[^1].Status);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever throws on one event (mapper, drift walk, reading its headers) would throw on
                // every retry: quarantine that event with the reason and let the log move on.
                Log.NormalizeEventFailed(logger, stored.Raw.Summary.Id, ex);
                outcomes.Add(Final(stored, new MapResult.Quarantined($"normalization failed: {ex.GetType().Name}: {ex.Message}")));
            }
        }
        var drift = _drift.Observe(observed, now);
        try
        {
            await store.CommitNormalizationAsync(outcomes, CursorName, batch[^1].Seq, drift, cancellationToken, _lease);
            CountQuarantined(outcomes);
        }
        catch (System.Data.Common.DbException ex) when (store.IsDataRejection(ex))
        {
            // The database refuses something one event carries (PostgreSQL: a NUL in a jsonb string),
            // and would on every retry: commit the batch event by event and quarantine what is refused.
            // The batch's drift counts were not stored; they are reloaded.
            _drift = null;
            foreach (var outcome in outcomes) await CommitOrQuarantineAsync(outcome, CursorName, cancellationToken);
        }
        projectSignal.Notify();
        return batch.Count;
    }

    private async Task<int> ProcessPendingAsync(CancellationToken cancellationToken)
    {
        var due = await store.DuePendingAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), 32, cancellationToken);
        foreach (var stored in due)
        {
            using var activity = Telemetry.StageTracing.Start(Telemetry.StageTracing.Normalize, "normalize.pending", stored.Raw.Summary.TraceId);
            activity?.SetTag("junction.raw_id", stored.Raw.Summary.Id);
            var state = await store.GetNormalizationAsync(stored.Raw.Summary.Id, cancellationToken);
            NormalizationOutcome outcome;
            try
            {
                outcome = await ResolveAsync(stored, state, cancellationToken);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or System.Data.Common.DbException))
            {
                Log.NormalizeEventFailed(logger, stored.Raw.Summary.Id, ex);
                outcome = Final(stored, new MapResult.Quarantined($"normalization failed: {ex.GetType().Name}: {ex.Message}"));
            }
            await CommitOrQuarantineAsync(outcome, null, cancellationToken);
            projectSignal.Notify();
        }
        return due.Count;
    }

    private async Task CommitOrQuarantineAsync(NormalizationOutcome outcome, string? cursorName, CancellationToken cancellationToken)
    {
        try
        {
            await store.CommitNormalizationAsync([outcome], cursorName, outcome.RawSeq, null, cancellationToken, _lease);
            CountQuarantined([outcome]);
        }
        catch (System.Data.Common.DbException ex) when (store.IsDataRejection(ex))
        {
            Log.NormalizeEventFailed(logger, outcome.RawId, ex);
            var refused = outcome with
            {
                Status = NormalizationStatus.Quarantined,
                Reason = $"the database refused its canonical events: {ex.Message}",
                Events = [],
                NextAttemptAt = null,
            };
            await store.CommitNormalizationAsync([refused], cursorName, outcome.RawSeq, null, cancellationToken, _lease);
            CountQuarantined([refused]);
        }
    }

    /// <summary>Counted once committed: an outcome rolled back (leadership lost) is not a quarantine.</summary>
    private void CountQuarantined(IReadOnlyList<NormalizationOutcome> committed)
    {
        if (metrics is null) return;
        foreach (var o in committed)
        {
            if (o.Status == NormalizationStatus.Quarantined) metrics.Quarantined(o.Source);
        }
    }

    private async Task<NormalizationOutcome> ResolveAsync(StoredRaw stored, NormalizationState? state, CancellationToken cancellationToken)
    {
        var enrichments = new Dictionary<string, string>(await store.GetEnrichmentsAsync(stored.Raw.Summary.Id, cancellationToken), StringComparer.Ordinal);
        for (var round = 0; ; round++)
        {
            var (input, problem) = Input(stored, enrichments);
            var result = problem ?? SafeMap(input!);
            if (result is not MapResult.NeedsEnrichment need) return Final(stored, result);
            if (round >= MaxEnrichmentRounds)
            {
                return Final(stored, new MapResult.Quarantined($"enrichment: the mapper still asked for more after {round} fetches") { ProviderType = result.ProviderType });
            }

            var source = config.Sources[stored.Raw.Summary.Source];
            var provider = ProviderRegistry.Get(source.Provider);
            if (provider.Api is not { } api)
            {
                return Final(stored, new MapResult.Quarantined($"enrichment: provider {provider.Name} has no API client") { ProviderType = result.ProviderType });
            }
            var client = new ProviderApiClient(httpClients.CreateClient(HttpClientName), source, api, time);
            foreach (var request in need.Requests.Where(r => !enrichments.ContainsKey(r.Key)))
            {
                try
                {
                    var body = await client.GetJsonAsync(request.PathAndQuery, cancellationToken);
                    var json = body.GetRawText();
                    await store.SaveEnrichmentAsync(stored.Raw.Summary.Id, request.Key, json, cancellationToken);
                    enrichments[request.Key] = json;
                }
                catch (ProviderApiException ex) when (!ex.IsTransient)
                {
                    return Final(stored, new MapResult.Quarantined($"enrichment: {ex.Message}; this will not change by retrying") { ProviderType = result.ProviderType });
                }
                catch (Exception ex) when (ex is ProviderApiException or HttpRequestException or TaskCanceledException or JsonException)
                {
                    return Retry(stored, state, result.ProviderType, ex.Message, (ex as ProviderApiException)?.RetryAfter);
                }
            }
        }
    }

    private NormalizationOutcome Retry(StoredRaw stored, NormalizationState? state, string? providerType, string error, TimeSpan? retryAfter)
    {
        var now = time.GetUtcNow();
        var attempts = (state?.Attempts ?? 0) + 1;
        var firstFailed = state?.FirstFailedAt ?? now.ToUnixTimeMilliseconds();
        if (now.ToUnixTimeMilliseconds() - firstFailed > RetryWindow.TotalMilliseconds)
        {
            return Final(stored, new MapResult.Quarantined($"enrichment failed for {RetryWindow.TotalHours:0} h; last error: {error}") { ProviderType = providerType });
        }
        // Exponential backoff with full jitter, capped at an hour; a Retry-After from the provider wins when later.
        var cap = Math.Min(3600, Math.Pow(2, Math.Min(attempts, 12)));
        var delay = TimeSpan.FromSeconds(Random.Shared.NextDouble() * cap);
        if (retryAfter is { } ra && ra > delay) delay = ra;
        return Outcome(stored, new MapResult.Ignored(error) { ProviderType = providerType }, NormalizationStatus.Pending, $"waiting for enrichment: {error}") with
        {
            Attempts = attempts,
            FirstFailedAt = firstFailed,
            NextAttemptAt = (now + delay).ToUnixTimeMilliseconds(),
        };
    }

    private (RawInput? Input, MapResult? Problem) Input(StoredRaw stored, IReadOnlyDictionary<string, string> enrichments)
    {
        var summary = stored.Raw.Summary;
        if (!config.Sources.TryGetValue(summary.Source, out var source) && !Import.ImportProvider.TryBuiltIn(config.Sources, summary.Source, out source))
        {
            return (null, new MapResult.Quarantined($"source '{summary.Source}' is not configured any more; add it back to sources: and retry"));
        }
        var provider = ProviderRegistry.Get(source.Provider);
        var headers = JsonSerializer.Deserialize(stored.Raw.HeadersJson, Intake.JunctionJson.Default.DictionaryStringString) ?? [];
        return (new RawInput
        {
            RawId = summary.Id,
            Source = summary.Source,
            Provider = provider.Name,
            Body = stored.Raw.Body,
            Headers = headers,
            ContentType = stored.Raw.ContentType,
            TraceId = summary.TraceId,
            ReceivedAt = summary.ReceivedAt,
            DedupKey = summary.DedupKey,
            CanEnrich = provider.Api is not null && source.HasApiCredentials,
            ApiBaseUrl = source.Option("api_base_url"),
            Enrichment = enrichments.ToDictionary(kv => kv.Key, kv => JsonDocument.Parse(kv.Value).RootElement, StringComparer.Ordinal),
        }, null);
    }


    private MapResult SafeMap(RawInput input)
    {
        if (InvalidJsonEncoding(input) is { } reason) return new MapResult.Quarantined(reason);
        try
        {
            return ProviderRegistry.Get(input.Provider).Mapper.Map(input);
        }
        catch (MappingException ex)
        {
            return new MapResult.Quarantined(ex.Message);
        }
        catch (Exception ex)
        {
            // A mapper bug must not stop the log: the event waits in quarantine for the fix and a retry.
            Log.MapperFailed(logger, input.Provider, input.RawId, ex);
            return new MapResult.Quarantined($"mapper for {input.Provider} failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>
    /// A JSON body must be UTF-8 (RFC 8259), but System.Text.Json checks only what it reads: a mapper
    /// would throw on a bad string it reads and the drift walk on a bad key, with an exception for a
    /// reason. One check first gives every such body the same plain reason. A body that looks like
    /// JSON is checked whatever its content type says (most mappers parse JSON regardless); a form's
    /// raw bytes are decoded leniently, so forms are left alone.
    /// </summary>
    internal static string? InvalidJsonEncoding(RawInput input)
    {
        var body = input.Body.AsSpan().TrimStart(" \t\r\n"u8);
        var json = !input.IsForm || (body.Length > 0 && body[0] is (byte)'{' or (byte)'[');
        return json && Intake.JsonBody.InvalidUtf8At(input.Body) is { } at ? $"body: invalid UTF-8 at byte {at}; a JSON body must be UTF-8" : null;
    }

    private static NormalizationOutcome Final(StoredRaw stored, MapResult result) => result switch
    {
        MapResult.Mapped m => Outcome(stored, result, NormalizationStatus.Mapped, null) with
        {
            Events = m.Events.Select(e => (e, CanonicalJson.Serialize(e))).ToList(),
        },
        MapResult.Ignored i => Outcome(stored, result, NormalizationStatus.Ignored, i.Reason),
        MapResult.Quarantined q => Outcome(stored, result, NormalizationStatus.Quarantined, q.Reason),
        _ => Outcome(stored, result, NormalizationStatus.Quarantined, "enrichment was asked for where it cannot be done"),
    };

    private static NormalizationOutcome Outcome(StoredRaw stored, MapResult result, string status, string? reason) => new()
    {
        RawId = stored.Raw.Summary.Id,
        RawSeq = stored.Seq,
        Source = stored.Raw.Summary.Source,
        ProviderType = result.ProviderType,
        Status = status,
        Reason = reason,
    };
}
