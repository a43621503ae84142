using Junction.Storage;

namespace Junction.Dispatch;

/// <summary>
/// What the dispatcher keeps per destination in memory: its send-rate token bucket (a burst of one
/// second's worth, refilled continuously at RateLimit per second; a node alone never exceeds the rate,
/// and every send also takes a token from the cluster-wide bucket in the store), circuit breaker,
/// rate-limit hold and a five-minute window of outcomes. Durable state (the queue, the retry
/// schedule, pause) lives in the store.
/// </summary>
/// <remarks>
/// The bucket is our own few lines rather than System.Threading.RateLimiting's TokenBucketRateLimiter:
/// that one refills from Stopwatch time even with AutoReplenishment off, so it cannot follow the
/// injected TimeProvider, and the tests drive time.
/// </remarks>
public sealed class DestinationRuntime
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private readonly TimeProvider _time;
    private readonly double _rate;
    private readonly double _capacity;
    private double _tokens;
    private DateTimeOffset _lastRefill;
    private readonly Lock _lock = new();
    private readonly Queue<(DateTimeOffset At, DeliveryOutcome Outcome)> _recent = new();
    private DateTimeOffset _holdUntil;
    private DateTimeOffset _sharedWaitUntil;
    private string? _lastError;

    public DestinationRuntime(IDestinationConnector? connector, DestinationConfig config, DispatchOptions options, TimeProvider time)
    {
        Config = config;
        Connector = connector;
        _time = time;
        Breaker = new CircuitBreaker(options.BreakerThreshold, options.BreakerOpenFor, time);
        _rate = config.RateLimit > 0 ? config.RateLimit : 1;
        _capacity = Math.Max(1, Math.Ceiling(_rate));
        _tokens = _capacity;
        _lastRefill = time.GetUtcNow();
    }

    public DestinationConfig Config { get; }
    public IDestinationConnector? Connector { get; }
    public CircuitBreaker Breaker { get; }

    /// <summary>
    /// <c>delivery: batch</c>: event tasks claimed (leased to this node) and waiting for their batch to
    /// fill or to age. Only the dispatcher's pump for this destination touches it. A node that stops
    /// while holding them loses nothing: their leases run out and they are claimed again.
    /// </summary>
    public List<(ClaimedDelivery Task, DateTimeOffset Since)> Waiting { get; } = [];

    /// <summary>When the waiting tasks' leases were last renewed.</summary>
    public DateTimeOffset WaitingRenewed { get; set; }

    /// <summary>When the oldest waiting task's batch is due by age; null when nothing waits.</summary>
    public DateTimeOffset? BatchDue => Config.Batch is { } batch && Waiting.Count > 0 ? Waiting[0].Since + batch.Every : null;

    /// <summary>Until when a 429 holds all sending to this destination.</summary>
    public DateTimeOffset HoldUntil
    {
        get { lock (_lock) return _holdUntil; }
    }

    /// <summary>The configured rate limit (requests per second) the shared bucket refills at.</summary>
    public double Rate => _rate;

    /// <summary>The bucket's burst: one second's worth.</summary>
    public double Capacity => _capacity;

    /// <summary>Until when the cluster-wide bucket is expected to be empty (the other nodes took its tokens).</summary>
    public DateTimeOffset SharedWaitUntil
    {
        get { lock (_lock) return _sharedWaitUntil; }
    }

    /// <summary>
    /// The shared bucket granted fewer tokens than wanted, with <paramref name="left"/> tokens in it:
    /// waits until the next whole token is due there, rather than asking again at once.
    /// </summary>
    public void SharedEmpty(double left)
    {
        lock (_lock)
        {
            var wait = TimeSpan.FromSeconds(Math.Max(0, 1 - left) / _rate);
            _sharedWaitUntil = _time.GetUtcNow() + wait;
        }
    }

    public string? LastError
    {
        get { lock (_lock) return _lastError; }
    }

    public void Hold(DateTimeOffset until)
    {
        lock (_lock) if (until > _holdUntil) _holdUntil = until;
    }

    /// <summary>Whole tokens available now, after refilling for the time passed.</summary>
    public int Available()
    {
        lock (_lock)
        {
            Refill();
            return (int)Math.Floor(_tokens);
        }
    }

    public bool TryTake()
    {
        lock (_lock)
        {
            Refill();
            if (_tokens < 1) return false;
            _tokens -= 1;
            return true;
        }
    }

    /// <summary>
    /// Takes a token only while <paramref name="reserve"/> of the bucket stays for deliveries: an audit's
    /// reads use the same rate limit and get the spare capacity, never the deliveries' share.
    /// </summary>
    public bool TryTakeReserving(double reserve)
    {
        lock (_lock)
        {
            Refill();
            if (_tokens - 1 < _capacity * reserve - 1e-9 && _tokens < _capacity) return false;
            if (_tokens < 1) return false;
            _tokens -= 1;
            return true;
        }
    }

    /// <summary>When the next whole token arrives.</summary>
    public DateTimeOffset NextToken
    {
        get
        {
            lock (_lock)
            {
                Refill();
                return _tokens >= 1 ? _time.GetUtcNow() : _lastRefill + TimeSpan.FromSeconds((1 - _tokens) / _rate);
            }
        }
    }

    private void Refill()
    {
        var now = _time.GetUtcNow();
        if (now <= _lastRefill) return;
        _tokens = Math.Min(_capacity, _tokens + (now - _lastRefill).TotalSeconds * _rate);
        _lastRefill = now;
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
}
