namespace Junction.Normalize;

/// <summary>Wakes the normalizer as soon as intake commits, so latency is not a polling interval.</summary>
public sealed class NormalizeSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _lastNotified;

    /// <summary>How recently intake must have committed for it to count as busy.</summary>
    public static readonly TimeSpan BusyWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>True while intake is committing events (it committed within <see cref="BusyWindow"/>).</summary>
    public bool IntakeBusy
    {
        get
        {
            var last = Interlocked.Read(ref _lastNotified);
            return last != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(last) < BusyWindow;
        }
    }

    public void Notify()
    {
        Interlocked.Exchange(ref _lastNotified, System.Diagnostics.Stopwatch.GetTimestamp());
        try
        {
            if (_signal.CurrentCount == 0) _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up is enough.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _signal.Dispose();
}
