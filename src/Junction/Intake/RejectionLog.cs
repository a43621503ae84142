using System.Threading.Channels;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Intake;

/// <summary>
/// Refused requests, written in the background to a bounded table. A flood of forgeries can neither
/// slow intake nor grow the table past its cap: the queue drops its oldest entries when full, the
/// writer stands back while intake is committing (up to <see cref="MaxDefer"/>, so a steady stream of
/// accepted events cannot silence it), and its commits skip the fsync that acknowledged events need
/// (a rejection is a diagnostic, never acknowledged data: a power cut may lose the newest few).
/// </summary>
public sealed class RejectionLog : BackgroundService
{
    public const int Keep = 10_000;
    public const int DefaultCapacity = 4_096;

    /// <summary>How long the writer waits for intake to go quiet before it writes anyway.</summary>
    public static readonly TimeSpan MaxDefer = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(20);

    private readonly IJunctionStore _store;
    private readonly Func<bool> _intakeBusy;
    private readonly ILogger<RejectionLog> _logger;
    private readonly Channel<Rejection> _queue;
    private long _dropped;

    public RejectionLog(IJunctionStore store, IntakeMetrics metrics, ILogger<RejectionLog> logger, Normalize.NormalizeSignal intake)
        : this(store, metrics, logger, DefaultCapacity, () => intake.IntakeBusy)
    {
    }

    // intakeBusy: true while intake is committing (tests pass their own).
    internal RejectionLog(IJunctionStore store, IntakeMetrics metrics, ILogger<RejectionLog> logger, int capacity, Func<bool>? intakeBusy = null)
    {
        _store = store;
        _intakeBusy = intakeBusy ?? (() => false);
        _logger = logger;
        // Lossy under pressure by design, and counted: a flood shows as junction_intake_rejections_dropped_total.
        _queue = Channel.CreateBounded<Rejection>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.DropOldest,
        }, dropped =>
        {
            Interlocked.Increment(ref _dropped);
            metrics.RejectionDropped(dropped.Source);
        });
    }

    /// <summary>Rejections dropped because the queue was full (the writer behind, or blocked).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Never waits: the request that was refused is answered whatever happens to its record.</summary>
    public void Add(Rejection rejection) => _queue.Writer.TryWrite(rejection);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Rejection>();
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            // Intake first: while it commits, let the queue (bounded, lossy) absorb the flood.
            var deferred = TimeSpan.Zero;
            while (_intakeBusy() && deferred < MaxDefer)
            {
                await Task.Delay(Recheck, CancellationToken.None);
                deferred += Recheck;
            }
            batch.Clear();
            while (batch.Count < 512 && _queue.Reader.TryRead(out var r)) batch.Add(r);
            try
            {
                await _store.AppendRejectionsAsync(batch, Keep, CancellationToken.None);
            }
            catch (Exception ex)
            {
                Log.RejectionWriteFailed(_logger, batch.Count, ex);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }
}
