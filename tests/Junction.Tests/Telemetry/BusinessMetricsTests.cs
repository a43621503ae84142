using System.Globalization;
using Junction.Telemetry;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Telemetry;

/// <summary>
/// The business plane through a real /metrics scrape after real traffic (POST /v1/events through
/// normalize, project and dispatch to the fake destinations): orders, revenue and refunds per
/// currency, failed enrollments per destination, UTM fidelity, and the DLQ size; a test person's
/// sandbox purchase counts in none of the business figures.
/// </summary>
[Collection(ScrapedAlone.Name)]
public sealed class BusinessMetricsTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task OrdersRevenueRefunds_FailedEnrollments_AndUtmFidelity_LeaveTestPeopleOut(string engine)
    {
        var storage = engine == "sqlite" ? TestStorage.NewSqlite() : await TestStorage.NewPostgresAsync();
        await using var rig = await ScenarioRig.StartAsync(storage,
            services: s => s.AddSingleton(new MetricsPollerOptions { PollInterval = TimeSpan.FromMilliseconds(100), FidelityInterval = TimeSpan.Zero }));
        // Teachable refuses everything (400): every enrollment Junction sends it goes to the DLQ.
        rig.Teachable.FailNext(10_000, 400);
        var now = TimeProvider.System.GetUtcNow();
        string At(double hoursAgo) => now.AddHours(-hoursAgo).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        await rig.PostAsync(OptIn("ada@example.com", At(3), utm: "ig"));
        await rig.PostAsync(Paid("ord_ada", "ada@example.com", At(2)));
        await rig.PostAsync(Paid("ord_bob", "bob@example.com", At(2), amount: 2500));
        // A smoke run's sandbox purchase and refund: a test person, with a first touch that would raise the fidelity.
        await rig.PostAsync(TestMode(OptIn("smoke@example.com", At(3), utm: "smoke")));
        await rig.PostAsync(TestMode(Paid("ord_smoke", "smoke@example.com", At(2), amount: 100_000)));
        await rig.WaitForDeliveriesAsync($"destination={ScenarioRig.TeachableId}&state=dead", d => d.Count == 3);

        await rig.PostAsync(Refund("ord_ada", "ada@example.com", At(1)));
        await rig.PostAsync(TestMode(Refund("ord_smoke", "smoke@example.com", At(1), amount: 100_000)));
        await PersonAsync(rig.Server, "/v1/people?email=ada@example.com", p => p.GetProperty("orders")[0].GetProperty("refunded").GetInt64() == 4900);
        await PersonAsync(rig.Server, "/v1/people?email=smoke@example.com", p => p.GetProperty("orders")[0].GetProperty("refunded").GetInt64() == 100_000);
        await rig.SettledAsync();
        var dead = (await rig.DeliveriesAsync($"destination={ScenarioRig.TeachableId}&state=dead")).Count;

        var text = await Scrape.UntilAsync(rig.Server.Client, t =>
            Scrape.Value(t, "junction_refunds_total", ("currency", "USD")) == 1
            && Scrape.Value(t, "junction_dlq_size", ("destination", ScenarioRig.TeachableId)) == dead
            && Scrape.Value(t, "junction_utm_fidelity_paid_orders") == 2, "the refund, the DLQ and the fidelity window");

        Assert.Equal(2, Scrape.Value(text, "junction_orders_total", ("currency", "USD")));
        Assert.Equal(74, Scrape.Value(text, "junction_revenue_total", ("currency", "USD")));
        Assert.Equal(49, Scrape.Value(text, "junction_refunded_total", ("currency", "USD")));
        // Ada's and Bob's course went dead; the smoke person's did too, and is not a failed enrollment.
        Assert.True(Scrape.Value(text, "junction_enrollments_failed_total", ("destination", ScenarioRig.TeachableId)) == 2,
            "expected 2 failed enrollments; dead deliveries: " + await rig.Server.Admin.GetStringAsync($"/v1/deliveries?limit=100&destination={ScenarioRig.TeachableId}"));
        Assert.True(dead >= 3, $"expected the three enrollments in the DLQ, found {dead}");
        // Of Ada's and Bob's paid orders, Ada's buyer has a first touch with utm_source.
        Assert.Equal(0.5, Scrape.Value(text, "junction_utm_fidelity"));
        Assert.Equal(0, Scrape.Value(text, "junction_dlq_size", ("destination", ScenarioRig.KitId)));
    }

    private static string TestMode(string json) => "{\"test_mode\":true," + json.TrimStart()[1..];
}
