using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Integrations.Mixpanel;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Integrations.Mixpanel;

/// <summary>Mixpanel end to end through the real intake (POST /v1/events), per storage engine, against <see cref="FakeMixpanel"/>.</summary>
public abstract class MixpanelScenarioTests
{
    private const string Ada = "ada@example.com";
    private const string Id = "mixpanel";

    protected abstract Task<string> NewStorageAsync();

    private async Task<(ScenarioRig Rig, FakeMixpanel Mixpanel)> RigAsync(Action<DispatchOptions>? options = null)
    {
        var mixpanel = await FakeMixpanel.StartAsync();
        var destination = new DestinationConfig
        {
            Id = Id, Type = MixpanelDestination.Type, Traits = DestinationTypes.TraitsOf(MixpanelDestination.Type), BaseUrl = mixpanel.BaseUrl, RateLimit = 100, RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["username"] = FakeMixpanel.Username, ["secret"] = FakeMixpanel.Secret },
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["project_id"] = FakeMixpanel.ProjectId, ["token"] = FakeMixpanel.Token },
        };
        var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), options, configure: c => c with
        {
            Destinations = new Dictionary<string, DestinationConfig>(c.Destinations, StringComparer.Ordinal) { [Id] = destination },
        });
        return (rig, mixpanel);
    }

    private static string Prop(JsonObject e, string name) => e["properties"]![name]!.ToString();

    [Fact]
    public async Task Purchase_ImportsOrderPaid_ThenRefund_ImportsOrderRefunded_ForTheSamePerson()
    {
        var (rig, mixpanel) = await RigAsync();
        await using var _ = rig;
        await using var __ = mixpanel;

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => mixpanel.Events.Any(e => e["event"]!.ToString() == "Order Paid"), "the Mixpanel Order Paid event");
        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.EventuallyAsync(() => mixpanel.Events.Any(e => e["event"]!.ToString() == "Order Refunded"), "the Mixpanel Order Refunded event");

        var paid = mixpanel.Events.Single(e => e["event"]!.ToString() == "Order Paid");
        var refunded = mixpanel.Events.Single(e => e["event"]!.ToString() == "Order Refunded");
        Assert.Equal("ord_1", Prop(paid, "order_id"));
        Assert.Equal("ord_1", Prop(refunded, "order_id"));
        Assert.Equal(Prop(paid, "distinct_id"), Prop(refunded, "distinct_id"));
        Assert.StartsWith("p_", Prop(paid, "distinct_id"), StringComparison.Ordinal); // the person id, not the address
        Assert.Equal(DateTimeOffset.Parse("2026-11-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(),
            paid["properties"]!["time"]!.GetValue<long>());
        Assert.DoesNotContain(Ada, paid.ToJsonString(), StringComparison.Ordinal);
        await rig.SettledAsync();
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
    }

    [Fact]
    public async Task RateLimitStorm_NoImportBeforeMixpanelsBackoff_AndNothingLost()
    {
        var (rig, mixpanel) = await RigAsync(o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(5);
        });
        await using var _ = rig;
        await using var __ = mixpanel;
        const int storm = 2;
        mixpanel.RateLimitNext(storm); // Mixpanel's 429 names no Retry-After
        var buyers = Enumerable.Range(1, 3).Select(i => $"buyer{i}@example.com").ToList();

        foreach (var (email, i) in buyers.Select((e, i) => (e, i))) await rig.PostAsync(Paid($"ord_{i}", email, "2026-11-01T10:00:00Z"));

        await rig.EventuallyAsync(() => mixpanel.Events.Count == buyers.Count, "every purchase in Mixpanel", seconds: 30);
        var calls = mixpanel.Api.Requests.Where(r => r.Request.StartsWith("POST /import", StringComparison.Ordinal)).Select(r => r.At).ToList();
        for (var i = 0; i < storm; i++)
        {
            var gap = calls[i + 1] - calls[i];
            Assert.True(gap >= MixpanelConnector.RateLimitWait - TimeSpan.FromMilliseconds(20),
                $"import {i + 1} came {gap.TotalMilliseconds} ms after a 429 (Mixpanel's advice: wait 2 s)");
        }
        await rig.SettledAsync();
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
    }

    [Fact]
    public async Task RejectedEvent_GoesToTheDlq_ReplayImportsItOnce()
    {
        var (rig, mixpanel) = await RigAsync();
        await using var _ = rig;
        await using var __ = mixpanel;
        mixpanel.RejectNext(1);

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        var dead = Assert.Single(await rig.WaitForDeliveriesAsync($"destination={Id}&state=dead", d => d.Count == 1));
        Assert.Contains("rejected by the test", dead.GetProperty("dead_reason").GetString(), StringComparison.Ordinal);
        Assert.Empty(mixpanel.Events);

        var replay = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        await rig.EventuallyAsync(() => mixpanel.Events.Count == 1, "the replayed import");
        await rig.SettledAsync();
        await Task.Delay(300);
        Assert.Single(mixpanel.Events);
        Assert.Equal(2, mixpanel.Api.Count("POST /import"));
    }
}

public sealed class SqliteMixpanelScenarioTests : MixpanelScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresMixpanelScenarioTests : MixpanelScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
