namespace Junction.Normalize;

/// <summary>Wakes the normalizer as soon as intake commits, so latency is not a polling interval.</summary>
public sealed class NormalizeSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _lastNotified;
    private long _lastSaturated;

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

    /// <summary>
    /// An intake commit of this many events or more means requests were queueing behind the previous
    /// commit: intake is saturated. At a steady few hundred events a second each commit holds one to a
    /// handful, so the stages behind it run at full speed and latency stays low.
    /// </summary>
    public const int SaturatedBatch = 16;

    /// <summary>How recently intake must have committed a saturated batch for it to count as saturated.</summary>
    public static readonly TimeSpan SaturatedWindow = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// True while webhooks queue up behind intake's commits (a commit of <see cref="SaturatedBatch"/>
    /// or more within <see cref="SaturatedWindow"/>): the background stages then yield the core to
    /// intake and catch up once the burst has passed.
    /// </summary>
    public bool IntakeSaturated
    {
        get
        {
            var last = Interlocked.Read(ref _lastSaturated);
            return last != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(last) < SaturatedWindow;
        }
    }

    /// <summary>Intake committed <paramref name="events"/> events: wakes the normalizer and records how busy intake is.</summary>
    public void IntakeCommitted(int events)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _lastNotified, now);
        if (events >= SaturatedBatch) Interlocked.Exchange(ref _lastSaturated, now);
        Wake();
    }

    /// <summary>Wakes the normalizer (an operator's retry, a replay) without counting as intake traffic.</summary>
    public void Notify() => Wake();

    private void Wake()
    {
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
