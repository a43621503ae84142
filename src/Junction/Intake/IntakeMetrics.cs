using System.Diagnostics.Metrics;

namespace Junction.Intake;

/// <summary>Delivery-plane intake metrics, exported on /metrics.</summary>
public sealed class IntakeMetrics
{
    public const string MeterName = "Junction.Intake";

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _rejectionsDropped;
    private readonly Histogram<double> _duration;

    public IntakeMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("junction.intake.accepted", "{event}", "Webhooks stored as new raw events");
        _duplicates = meter.CreateCounter<long>("junction.intake.duplicates", "{event}", "Webhooks acknowledged as duplicates of a stored event");
        _rejected = meter.CreateCounter<long>("junction.intake.rejected", "{request}", "Requests refused, by reason");
        _rejectionsDropped = meter.CreateCounter<long>("junction.intake.rejections_dropped", "{request}",
            "Refused requests whose record was dropped because the rejection log's queue was full (they are still counted in rejected)");
        _duration = meter.CreateHistogram("junction.intake.duration", "s", "Time from request to durable acknowledgement",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
            });
    }

    public void Accepted(string source, bool duplicate, double seconds)
    {
        var tag = new KeyValuePair<string, object?>("source", source);
        if (duplicate) _duplicates.Add(1, tag);
        else _accepted.Add(1, tag);
        _duration.Record(seconds, tag);
    }

    public void Rejected(string source, string reason) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("reason", reason));

    public void RejectionDropped(string source) => _rejectionsDropped.Add(1, new KeyValuePair<string, object?>("source", source));
}
