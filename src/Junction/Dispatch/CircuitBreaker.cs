namespace Junction.Dispatch;

public enum CircuitState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>
/// One destination's breaker: after <c>threshold</c> consecutive transient failures it opens for
/// <c>openFor</c>, then lets exactly one probe through; the probe's success closes it, its failure
/// opens it again. While it is open no task is claimed, so none burns an attempt.
/// </summary>
public sealed class CircuitBreaker(int threshold, TimeSpan openFor, TimeProvider time)
{
    private readonly Lock _lock = new();
    private CircuitState _state = CircuitState.Closed;
    private int _failures;
    private DateTimeOffset _openUntil;
    private bool _probing;

    public CircuitState State
    {
        get { lock (_lock) return _state; }
    }

    public int ConsecutiveFailures
    {
        get { lock (_lock) return _failures; }
    }

    /// <summary>When an open circuit will let a probe through.</summary>
    public DateTimeOffset OpenUntil
    {
        get { lock (_lock) return _openUntil; }
    }

    /// <summary>Whether work may be sent now; <paramref name="probe"/> says it must be a single task.</summary>
    public bool TryEnter(out bool probe)
    {
        lock (_lock)
        {
            probe = false;
            switch (_state)
            {
                case CircuitState.Closed:
                    return true;
                case CircuitState.Open when time.GetUtcNow() >= _openUntil:
                    _state = CircuitState.HalfOpen;
                    _probing = true;
                    probe = true;
                    return true;
                case CircuitState.HalfOpen when !_probing:
                    _probing = true;
                    probe = true;
                    return true;
                default:
                    return false;
            }
        }
    }

    /// <summary>The probe slot was taken but nothing was sent (no due work).</summary>
    public void ReleaseProbe()
    {
        lock (_lock) _probing = false;
    }

    /// <summary>The destination answered (a success, or a permanent error about the task, not the service).</summary>
    public void OnAnswered()
    {
        lock (_lock)
        {
            _state = CircuitState.Closed;
            _failures = 0;
            _probing = false;
        }
    }

    /// <summary>Rate limited: says nothing about the service's health.</summary>
    public void OnNeutral()
    {
        lock (_lock) _probing = false;
    }

    public void OnFailure()
    {
        lock (_lock)
        {
            _failures++;
            if (_state == CircuitState.HalfOpen || _failures >= threshold)
            {
                _state = CircuitState.Open;
                _openUntil = time.GetUtcNow() + openFor;
            }
            _probing = false;
        }
    }
}
