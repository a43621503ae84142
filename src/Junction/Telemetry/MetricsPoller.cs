using Junction.Config;
using Junction.Normalize;
using Junction.Storage;

namespace Junction.Telemetry;

/// <summary>How often the gauges are refreshed; tests shorten the fidelity interval.</summary>
public sealed record MetricsPollerOptions
{
    /// <summary>Quarantine and DLQ sizes and stage lag: index lookups, cheap enough every few seconds.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>UTM fidelity: reads the states of people written in the window, so minutes apart.</summary>
    public TimeSpan FidelityInterval { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Refreshes the gauges of <see cref="JunctionMetrics"/> from the store: quarantine and DLQ sizes
/// and the lag of each stage every <see cref="MetricsPollerOptions.PollInterval"/> (index lookups only), the UTM
/// fidelity every <see cref="MetricsPollerOptions.FidelityInterval"/> (it reads the states of people written in the
/// last 7 days). A scrape reads the cached snapshot, so scraping often costs the database nothing.
/// Runs on every node: the figures are the shared store's, the same from any node.
/// </summary>
public sealed class MetricsPoller(IJunctionStore store, JunctionConfig config, JunctionMetrics metrics, TimeProvider time,
    MetricsPollerOptions options, ILogger<MetricsPoller> logger) : BackgroundService
{
    public static readonly TimeSpan FidelityWindow = TimeSpan.FromDays(7);

    private readonly RelationalStore? _store = store as RelationalStore;
    private DateTimeOffset _fidelityAt = DateTimeOffset.MinValue;
    private (double? Share, long Paid) _fidelity;
    private (long Paid, long WithLead) _day;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_store is null) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The store may be unreachable for a moment: the gauges keep their last values until the next pass.
                Observability.Log.MetricsRefreshFailed(logger, ex);
            }
            try
            {
                await Task.Delay(options.PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass: reads the figures and publishes them to the gauges.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var store = _store ?? throw new InvalidOperationException("metrics need the relational store");
        var now = time.GetUtcNow();
        var lag = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["normalize"] = Age(now, await store.OldestUnnormalizedAsync(Normalizer.CursorName, cancellationToken)),
            ["project"] = Age(now, await store.OldestUnprojectedAsync(cancellationToken)),
        };
        var dead = new Dictionary<string, long>(StringComparer.Ordinal);
        var dispatchLag = 0.0;
        foreach (var destination in config.Destinations.Keys)
        {
            dead[destination] = await store.CountDeadDeliveriesAsync(destination, cancellationToken);
            if (await store.EarliestPendingDeliveryAsync(destination, cancellationToken) is { } due)
            {
                // A delivery waiting for its retry time is not late; one due and unsent is.
                dispatchLag = Math.Max(dispatchLag, Age(now, DateTimeOffset.FromUnixTimeMilliseconds(due)));
            }
        }
        lag["dispatch"] = dispatchLag;
        var quarantined = await store.CountQuarantinedAsync(cancellationToken);

        if (now - _fidelityAt >= options.FidelityInterval)
        {
            // From the read model (order_summary), test people left out: indexed range counts, no state parsed.
            var end = now.ToUnixTimeMilliseconds() + 1;
            var week = await store.BusinessFiguresAsync((now - FidelityWindow).ToUnixTimeMilliseconds(), end, cancellationToken);
            _fidelity = (week.Orders == 0 ? null : (double)week.OrdersWithUtm / week.Orders, week.Orders);
            var day = await store.BusinessFiguresAsync((now - TimeSpan.FromDays(1)).ToUnixTimeMilliseconds(), end, cancellationToken);
            _day = (day.Orders, day.OrdersWithLead);
            _fidelityAt = now;
        }
        metrics.Publish(new MetricsSnapshot(quarantined, dead, lag, _fidelity.Share, _fidelity.Paid) { PaidOrders24h = _day.Paid, LeadOrders24h = _day.WithLead });
    }

    private static double Age(DateTimeOffset now, DateTimeOffset? since) =>
        since is { } at && at < now ? Math.Round((now - at).TotalSeconds, 3) : 0;
}
