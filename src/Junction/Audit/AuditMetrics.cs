using System.Diagnostics.Metrics;

namespace Junction.Audit;

/// <summary>The latest audit's figures per point, and the reconciliation rate, exported on /metrics.</summary>
public sealed class AuditMetrics
{
    public const string MeterName = "Junction.Audit";

    private volatile IReadOnlyList<(string Point, long Checked, long Mismatches)> _points = [];
    private double? _reconciliation;

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
    }

    public void Report(AuditResult result, double? reconciliationRate)
    {
        ArgumentNullException.ThrowIfNull(result);
        _points = [.. result.Points.Select(p => (p.Point.Name, (long)p.Checked, (long)p.Mismatches))];
        if (reconciliationRate is not null) _reconciliation = reconciliationRate;
    }
}
