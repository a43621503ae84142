using System.Diagnostics.Metrics;

namespace Junction.Dispatch;

/// <summary>Delivery metrics, exported on /metrics.</summary>
public sealed class DispatchMetrics
{
    public const string MeterName = "Junction.Dispatch";

    private readonly Counter<long> _succeeded;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _dead;
    private readonly Counter<long> _rateLimited;
    private readonly Histogram<double> _duration;
    private volatile IReadOnlyList<(string Destination, long Depth, int Circuit)> _snapshot = [];

    public DispatchMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _succeeded = meter.CreateCounter<long>("junction.dispatch.succeeded", "{delivery}", "Deliveries that succeeded");
        _failed = meter.CreateCounter<long>("junction.dispatch.failed", "{attempt}", "Failed attempts, by outcome (transient, permanent)");
        _dead = meter.CreateCounter<long>("junction.dispatch.dead", "{delivery}", "Deliveries moved to the dead-letter queue");
        _rateLimited = meter.CreateCounter<long>("junction.dispatch.rate_limited", "{attempt}", "Attempts answered with a rate limit");
        _duration = meter.CreateHistogram("junction.dispatch.attempt.duration", "s", "Time one delivery attempt took",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
            });
        meter.CreateObservableGauge("junction.dispatch.queue_depth", () => _snapshot.Select(s =>
            new Measurement<long>(s.Depth, new KeyValuePair<string, object?>("destination", s.Destination))), "{delivery}",
            "Tasks waiting (pending or held) per destination");
        meter.CreateObservableGauge("junction.dispatch.circuit_state", () => _snapshot.Select(s =>
            new Measurement<int>(s.Circuit, new KeyValuePair<string, object?>("destination", s.Destination))), null,
            "Circuit breaker: 0 closed, 1 half-open, 2 open");
    }

    public void Attempt(string destination, DeliveryOutcome outcome, double seconds)
    {
        var tag = new KeyValuePair<string, object?>("destination", destination);
        _duration.Record(seconds, tag);
        switch (outcome)
        {
            case DeliveryOutcome.Succeeded:
                _succeeded.Add(1, tag);
                break;
            case DeliveryOutcome.RateLimited:
                _rateLimited.Add(1, tag);
                break;
            default:
                _failed.Add(1, tag, new KeyValuePair<string, object?>("outcome", outcome == DeliveryOutcome.Permanent ? "permanent" : "transient"));
                break;
        }
    }

    public void Dead(string destination) => _dead.Add(1, new KeyValuePair<string, object?>("destination", destination));

    public void Snapshot(IReadOnlyList<(string Destination, long Depth, int Circuit)> snapshot) => _snapshot = snapshot;
}
