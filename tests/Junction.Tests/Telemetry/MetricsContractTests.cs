using Junction.Tests.Support;

namespace Junction.Tests.Telemetry;

/// <summary>The contract checked from outside: on a server that has seen no traffic yet, /metrics already has series for each plane's names.</summary>
[Collection(ScrapedAlone.Name)]
public sealed class MetricsContractTests
{
    [Fact]
    public async Task AnIdleServer_ExportsQuarantineDlqLagReconciliationUtmAndOrdersSeries_AtZero()
    {
        await using var server = await JunctionServer.StartAsync(JunctionServer.Config(TestStorage.NewSqlite()));

        var text = await Scrape.UntilAsync(server.Client, t => Scrape.Value(t, "junction_quarantine_size") is not null, "the first poll");

        Assert.Equal(0, Scrape.Value(text, "junction_quarantine_size"));
        Assert.Equal(0, Scrape.Value(text, "junction_dlq_dead_deliveries"));
        Assert.Equal(0, Scrape.Value(text, "junction_stage_lag_seconds", ("stage", "normalize")));
        Assert.Equal(0, Scrape.Value(text, "junction_reconciliation_orders_24h", ("buyer", "lead_before_purchase")));
        Assert.Equal(0, Scrape.Value(text, "junction_utm_fidelity_paid_orders"));
        Assert.Equal(0, Scrape.Value(text, "junction_orders_paid_24h"));
    }
}
