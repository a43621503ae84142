using System.Threading.Channels;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Intake;

/// <summary>
/// Refused requests, written in the background to a bounded table. A flood of forgeries can neither
/// slow intake (the queue drops its oldest entries when full) nor grow the table past its cap.
/// </summary>
public sealed class RejectionLog(IJunctionStore store, ILogger<RejectionLog> logger) : BackgroundService
{
    public const int Keep = 10_000;

    private readonly Channel<Rejection> _queue = Channel.CreateBounded<Rejection>(new BoundedChannelOptions(4_096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropOldest,
    });

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
                await store.AppendRejectionsAsync(batch, Keep, CancellationToken.None);
            }
            catch (Exception ex)
            {
                Log.RejectionWriteFailed(logger, batch.Count, ex);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }
}
