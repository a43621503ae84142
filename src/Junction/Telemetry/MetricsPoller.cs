using System.Text.Json;
using Junction.Config;
using Junction.Normalize;
using Junction.State;
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
            _fidelity = UtmFidelity(await store.LoadRecentPeopleStatesAsync(now - FidelityWindow, cancellationToken), now - FidelityWindow);
            _fidelityAt = now;
        }
        metrics.Publish(new MetricsSnapshot(quarantined, dead, lag, _fidelity.Share, _fidelity.Paid));
    }

    private static double Age(DateTimeOffset now, DateTimeOffset? since) =>
        since is { } at && at < now ? Math.Round((now - at).TotalSeconds, 3) : 0;

    /// <summary>
    /// Of the orders paid since <paramref name="from"/> by people who are not test people, the share
    /// whose buyer has a first touch carrying utm_source. Reads only the few fields it needs.
    /// </summary>
    public static (double? Share, long Paid) UtmFidelity(IEnumerable<string> states, DateTimeOffset from)
    {
        long paid = 0, attributed = 0;
        foreach (var json in states)
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.TryGetProperty("test", out var test) && test.ValueKind == JsonValueKind.True) continue;
            if (!root.TryGetProperty("orders", out var orders) || orders.ValueKind != JsonValueKind.Array) continue;
            var hasSource = root.TryGetProperty("attribution", out var attribution) && attribution.ValueKind == JsonValueKind.Object
                && attribution.TryGetProperty("first_touch", out var first) && first.ValueKind == JsonValueKind.Object
                && first.TryGetProperty("utm_source", out var source) && source.ValueKind == JsonValueKind.String
                && !string.IsNullOrWhiteSpace(source.GetString());
            foreach (var order in orders.EnumerateArray())
            {
                if (order.TryGetProperty("status", out var status) && status.GetString() is OrderStatuses.Pending or OrderStatuses.Failed) continue;
                if (!order.TryGetProperty("paid_at", out var paidAt) || paidAt.ValueKind != JsonValueKind.String
                    || !paidAt.TryGetDateTimeOffset(out var at) || at < from)
                {
                    continue;
                }
                paid++;
                if (hasSource) attributed++;
            }
        }
        return (paid == 0 ? null : (double)attributed / paid, paid);
    }
}
