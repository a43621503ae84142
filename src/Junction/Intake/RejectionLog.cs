using System.Threading.Channels;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Intake;

/// <summary>
/// Refused requests, written in the background to a bounded table. A flood of forgeries can neither
/// slow intake (the queue drops its oldest entries when full) nor grow the table past its cap.
/// </summary>
public sealed class RejectionLog : BackgroundService
{
    public const int Keep = 10_000;
    public const int DefaultCapacity = 4_096;

    private readonly IJunctionStore _store;
    private readonly ILogger<RejectionLog> _logger;
    private readonly Channel<Rejection> _queue;
    private long _dropped;

    public RejectionLog(IJunctionStore store, IntakeMetrics metrics, ILogger<RejectionLog> logger)
        : this(store, metrics, logger, DefaultCapacity)
    {
    }

    internal RejectionLog(IJunctionStore store, IntakeMetrics metrics, ILogger<RejectionLog> logger, int capacity)
    {
        _store = store;
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
