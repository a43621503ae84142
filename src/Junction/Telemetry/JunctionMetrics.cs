using System.Diagnostics.Metrics;

namespace Junction.Telemetry;

/// <summary>
/// The processing and business planes on <c>/metrics</c> (the delivery plane is IntakeMetrics and
/// DispatchMetrics). Counters are added where the stage commits; gauges read a snapshot the
/// <see cref="MetricsPoller"/> refreshes from the store every few seconds, so a scrape never
/// queries the database. Instruments have no unit on purpose: "junction.orders" is exported as
/// exactly <c>junction_orders_total</c>, with no unit suffix to guess.
/// </summary>
public sealed class JunctionMetrics
{
    public const string MeterName = "Junction.Metrics";

    /// <summary>The stages whose lag is exported, in pipeline order.</summary>
    public static readonly IReadOnlyList<string> Stages = ["normalize", "project", "dispatch"];

    private readonly Counter<long> _quarantined;
    private readonly Counter<long> _poison;
    private readonly Counter<long> _orders;
    private readonly Counter<double> _revenue;
    private readonly Counter<long> _refunds;
    private readonly Counter<double> _refunded;
    private readonly Counter<long> _enrollmentsFailed;
    private volatile MetricsSnapshot _snapshot = MetricsSnapshot.Empty;

    public JunctionMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _quarantined = meter.CreateCounter<long>("junction.normalize.quarantined", null, "Raw events normalization put in quarantine, by source");
        _poison = meter.CreateCounter<long>("junction.project.poison", null, "Canonical events the projector could not apply and set aside");
        _orders = meter.CreateCounter<long>("junction.orders", null, "Orders that became paid, by currency (test people and test-mode events left out)");
        _revenue = meter.CreateCounter<double>("junction.revenue", null, "Amount of the orders that became paid, in major units of the currency");
        _refunds = meter.CreateCounter<long>("junction.refunds", null, "Refunds applied to orders, by currency");
        _refunded = meter.CreateCounter<double>("junction.refunded", null, "Amount refunded, in major units of the currency");
        _enrollmentsFailed = meter.CreateCounter<long>("junction.enrollments_failed", null,
            "Course enrollments a state delivery carried that went to the dead-letter queue, by destination");

        meter.CreateObservableGauge("junction.quarantine_size", () => _snapshot.Quarantined is { } q ? [new Measurement<long>(q)] : Array.Empty<Measurement<long>>(),
            null, "Raw events waiting in quarantine");
        meter.CreateObservableGauge("junction.dlq_size", () => _snapshot.Dead.Select(d =>
            new Measurement<long>(d.Value, new KeyValuePair<string, object?>("destination", d.Key))), null, "Deliveries in the dead-letter queue, by destination");
        meter.CreateObservableGauge("junction.stage_lag_seconds", () => _snapshot.Lag.Select(l =>
            new Measurement<double>(l.Value, new KeyValuePair<string, object?>("stage", l.Key))), null,
            "Age of the oldest item waiting for the stage, in seconds (0 when none waits)");
        meter.CreateObservableGauge("junction.utm_fidelity", () => _snapshot.UtmFidelity is { } f ? [new Measurement<double>(f)] : Array.Empty<Measurement<double>>(),
            null, "Share of paid orders in the last 7 days whose buyer has a first touch with utm_source (absent when there were none)");
        meter.CreateObservableGauge("junction.utm_fidelity_paid_orders", () => _snapshot.UtmPaidOrders is { } n ? [new Measurement<long>(n)] : Array.Empty<Measurement<long>>(),
            null, "Paid orders in the last 7 days that junction_utm_fidelity is computed over");
        // Present from the first scrape, even with no traffic yet (the counters above appear with their first order).
        meter.CreateObservableGauge("junction.orders_paid_24h", () => new Measurement<long>(_snapshot.PaidOrders24h), null,
            "Orders paid in the last 24 hours (read model; test people left out)");
        meter.CreateObservableGauge("junction.reconciliation_orders_24h", () => (Measurement<long>[])
            [
                new(_snapshot.LeadOrders24h, new KeyValuePair<string, object?>("buyer", "lead_before_purchase")),
                new(_snapshot.PaidOrders24h - _snapshot.LeadOrders24h, new KeyValuePair<string, object?>("buyer", "unknown_before_purchase")),
            ], null, "Orders paid in the last 24 hours by whether their buyer was known (a lead) before paying: the reconciliation rate's parts");
        meter.CreateObservableGauge("junction.dlq_dead_deliveries", () => new Measurement<long>(_snapshot.Dead.Values.Sum()), null,
            "Deliveries in the dead-letter queue, all destinations (0 when none are configured)");
    }

    public void Quarantined(string source) => _quarantined.Add(1, new KeyValuePair<string, object?>("source", source));

    public void Poisoned() => _poison.Add(1);

    public void OrderPaid(string currency, double amount)
    {
        var tag = new KeyValuePair<string, object?>("currency", currency);
        _orders.Add(1, tag);
        if (amount > 0) _revenue.Add(amount, tag);
    }

    public void Refunded(string currency, double amount)
    {
        var tag = new KeyValuePair<string, object?>("currency", currency);
        _refunds.Add(1, tag);
        if (amount > 0) _refunded.Add(amount, tag);
    }

    public void EnrollmentsFailed(string destination, int courses) =>
        _enrollmentsFailed.Add(courses, new KeyValuePair<string, object?>("destination", destination));

    public MetricsSnapshot Snapshot => _snapshot;

    public void Publish(MetricsSnapshot snapshot) => _snapshot = snapshot;
}

/// <summary>What the gauges show, as of the poller's last pass.</summary>
public sealed record MetricsSnapshot(
    long? Quarantined,
    IReadOnlyDictionary<string, long> Dead,
    IReadOnlyDictionary<string, double> Lag,
    double? UtmFidelity,
    long? UtmPaidOrders)
{
    /// <summary>Orders paid in the last 24 hours (read model, test people left out).</summary>
    public long PaidOrders24h { get; init; }

    /// <summary>Of those, the ones whose buyer was known before paying.</summary>
    public long LeadOrders24h { get; init; }

    public static readonly MetricsSnapshot Empty = new(null, new Dictionary<string, long>(), new Dictionary<string, double>(), null, null);
}
