using System.Diagnostics.Metrics;

namespace Junction.Audit;

/// <summary>The latest audit's figures per point, the reconciliation rate and the latest passed smoke run, exported on /metrics.</summary>
public sealed class AuditMetrics
{
    public const string MeterName = "Junction.Audit";

    private volatile IReadOnlyList<(string Point, long Checked, long Mismatches)> _points = [];
    private double? _reconciliation;
    private long _smokeSuccessMs = -1;

    public AuditMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("junction.audit.mismatches", () => _points.Select(p =>
            new Measurement<long>(p.Mismatches, new KeyValuePair<string, object?>("point", p.Point))), "{finding}", "Mismatches per audit point in the latest audit");
        meter.CreateObservableGauge("junction.audit.checked", () => _points.Select(p =>
            new Measurement<long>(p.Checked, new KeyValuePair<string, object?>("point", p.Point))), "{item}", "Items checked per audit point in the latest audit");
        meter.CreateObservableGauge("junction.reconciliation.rate", () => _reconciliation is { } r ? [new Measurement<double>(r)] : Array.Empty<Measurement<double>>(),
            null, "Share of paid orders in the audit window whose buyer was a lead before paying");
        meter.CreateObservableGauge("junction.smoke.last_success_timestamp",
            () => Interlocked.Read(ref _smokeSuccessMs) is var ms and >= 0 ? [new Measurement<double>(ms / 1000.0)] : Array.Empty<Measurement<double>>(),
            null, "When the latest smoke run that passed finished (Unix seconds)");
    }

    /// <summary>A smoke run passed at <paramref name="at"/> (kept if later than the one known).</summary>
    public void SmokeSucceeded(DateTimeOffset at)
    {
        var ms = at.ToUnixTimeMilliseconds();
        long seen;
        while ((seen = Interlocked.Read(ref _smokeSuccessMs)) < ms && Interlocked.CompareExchange(ref _smokeSuccessMs, ms, seen) != seen)
        {
            // another thread moved it: look again
        }
    }

    public void Report(AuditResult result, double? reconciliationRate)
    {
        ArgumentNullException.ThrowIfNull(result);
        _points = [.. result.Points.Select(p => (p.Point.Name, (long)p.Checked, (long)p.Mismatches))];
        if (reconciliationRate is not null) _reconciliation = reconciliationRate;
    }
}
