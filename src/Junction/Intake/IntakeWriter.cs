using System.Threading.Channels;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Intake;

/// <summary>
/// Group commit: requests queue their drafts here, one loop appends whatever has queued up in a
/// single transaction, and each request is answered only when its transaction is durable. Under
/// load, batches grow by themselves while the previous commit is syncing to disk.
/// </summary>
public sealed class IntakeWriter(IJunctionStore store, Normalize.NormalizeSignal normalize, ILogger<IntakeWriter> logger) : BackgroundService
{
    private const int MaxBatch = 256;

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(16_384)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private sealed record Pending(RawEventDraft Draft, TaskCompletionSource<AppendOutcome> Done);

    /// <summary>Completes when the event is durably stored (or found already stored); faults when the store failed.</summary>
    public async Task<AppendOutcome> AppendAsync(RawEventDraft draft, CancellationToken cancellationToken)
    {
        var pending = new Pending(draft, new TaskCompletionSource<AppendOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(MaxBatch);
        // On shutdown the channel is completed and drained: whatever was queued is still written and answered.
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var p)) batch.Add(p);
            await WriteAsync(batch);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        // The same provider event twice in one batch: store it once, answer the others as duplicates.
        var unique = new List<RawEventDraft>(batch.Count);
        var slot = new int[batch.Count];
        var firstByKey = new Dictionary<(string, string), int>();
        for (var i = 0; i < batch.Count; i++)
        {
            var d = batch[i].Draft;
            if (firstByKey.TryGetValue((d.Source, d.DedupKey), out var u))
            {
                slot[i] = -1 - u;
                continue;
            }
            firstByKey[(d.Source, d.DedupKey)] = unique.Count;
            slot[i] = unique.Count;
            unique.Add(d);
        }

        IReadOnlyList<AppendOutcome> outcomes;
        try
        {
            outcomes = await AppendWithRetryAsync(unique);
        }
        catch (Exception ex)
        {
            Log.AppendFailed(logger, batch.Count, ex);
            foreach (var p in batch) p.Done.TrySetException(ex);
            return;
        }

        normalize.IntakeCommitted(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var outcome = slot[i] >= 0 ? outcomes[slot[i]] : outcomes[-1 - slot[i]] with { Duplicate = true };
            batch[i].Done.TrySetResult(outcome);
        }
    }

    private async Task<IReadOnlyList<AppendOutcome>> AppendWithRetryAsync(List<RawEventDraft> drafts)
    {
        // One retry covers a deadlock or serialization failure between nodes; a down store fails fast
        // so the caller answers 503 and the provider retries.
        try
        {
            return await store.AppendRawAsync(drafts, CancellationToken.None);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException { IsTransient: true })
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20));
            return await store.AppendRawAsync(drafts, CancellationToken.None);
        }
    }
}
