using System.Threading.RateLimiting;

namespace Junction.Dispatch;

/// <summary>
/// What the dispatcher keeps per destination in memory: its send-rate bucket, circuit breaker,
/// rate-limit hold and a five-minute window of outcomes. Durable state (the queue, the retry
/// schedule, pause) lives in the store.
/// </summary>
public sealed class DestinationRuntime : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private readonly TimeProvider _time;
    private readonly TokenBucketRateLimiter _bucket;
    private readonly TimeSpan _period;
    private readonly Lock _lock = new();
    private readonly Queue<(DateTimeOffset At, DeliveryOutcome Outcome)> _recent = new();
    private readonly long _maxRefills;
    private DateTimeOffset _lastReplenish;
    private DateTimeOffset _holdUntil;
    private string? _lastError;

    public DestinationRuntime(IDestinationConnector? connector, DestinationConfig config, DispatchOptions options, TimeProvider time)
    {
        Config = config;
        Connector = connector;
        _time = time;
        Breaker = new CircuitBreaker(options.BreakerThreshold, options.BreakerOpenFor, time);
        // Replenished by hand from the TimeProvider (AutoReplenishment off) so a fake clock drives it:
        // at most 10 refills a second, a burst of at most one second's worth.
        var rate = config.RateLimit > 0 ? config.RateLimit : 1;
        var perPeriod = Math.Max(1, (int)Math.Floor(rate / 10));
        _period = TimeSpan.FromSeconds(perPeriod / rate);
        var limit = Math.Max(perPeriod, (int)Math.Ceiling(rate));
        _maxRefills = limit / perPeriod + 1;
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = _period,
            AutoReplenishment = false,
            QueueLimit = 0,
        });
        _lastReplenish = time.GetUtcNow();
    }

    public DestinationConfig Config { get; }
    public IDestinationConnector? Connector { get; }
    public CircuitBreaker Breaker { get; }

    /// <summary>Until when a 429 holds all sending to this destination.</summary>
    public DateTimeOffset HoldUntil
    {
        get { lock (_lock) return _holdUntil; }
    }

    public string? LastError
    {
        get { lock (_lock) return _lastError; }
    }

    public void Hold(DateTimeOffset until)
    {
        lock (_lock) if (until > _holdUntil) _holdUntil = until;
    }

    /// <summary>Tokens available now (after refilling for the time passed).</summary>
    public int Available()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var refills = (long)((now - _lastReplenish) / _period);
            if (refills > 0)
            {
                var needed = Math.Min(refills, _maxRefills);
                for (var i = 0; i < needed; i++) _bucket.TryReplenish();
                _lastReplenish += _period * refills;
            }
            return (int)_bucket.GetStatistics()!.CurrentAvailablePermits;
        }
    }

    public bool TryTake()
    {
        lock (_lock)
        {
            using var lease = _bucket.AttemptAcquire(1);
            return lease.IsAcquired;
        }
    }

    /// <summary>When the next token arrives.</summary>
    public DateTimeOffset NextToken
    {
        get { lock (_lock) return _lastReplenish + _period; }
    }

    public void Record(DeliveryOutcome outcome, string? error)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            _recent.Enqueue((now, outcome));
            if (outcome != DeliveryOutcome.Succeeded && error is not null) _lastError = error;
            Prune(now);
        }
    }

    /// <summary>Successes over answered attempts in the last five minutes (429s excluded); null without attempts.</summary>
    public double? SuccessRate()
    {
        lock (_lock)
        {
            Prune(_time.GetUtcNow());
            var counted = _recent.Count(r => r.Outcome != DeliveryOutcome.RateLimited);
            return counted == 0 ? null : (double)_recent.Count(r => r.Outcome == DeliveryOutcome.Succeeded) / counted;
        }
    }

    /// <summary>Attempts per second over the last minute.</summary>
    public double SendRate()
    {
        lock (_lock)
        {
            var since = _time.GetUtcNow() - TimeSpan.FromMinutes(1);
            return _recent.Count(r => r.At >= since) / 60.0;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        while (_recent.Count > 0 && now - _recent.Peek().At > Window) _recent.Dequeue();
    }

    public void Dispose() => _bucket.Dispose();
}
