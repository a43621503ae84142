using System.Text.Json;
using Junction.Alerts;
using Junction.Canonical;
using Junction.Storage;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Support;

namespace Junction.Tests.Alerts;

/// <summary>
/// R7.2 and R7.6 against a real store on a fake clock: each rule opens an incident that notifies once
/// (a signed webhook to a receiver that verifies it) and closes by itself after its cooldown healthy;
/// hysteresis, <c>for:</c>, test-mode data, and the election of one evaluator.
/// </summary>
public abstract class AlertRuleTests : IAsyncLifetime
{
    private const string Secret = JunctionServer.StandardSecret;
    private FakeWebhookReceiver? _receiver;

    protected abstract Task<string> StorageAsync();

    public async ValueTask InitializeAsync() => _receiver = await FakeWebhookReceiver.StartAsync(Secret);

    public async ValueTask DisposeAsync()
    {
        if (_receiver is not null) await _receiver.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private FakeWebhookReceiver Receiver => _receiver!;

    private Dictionary<string, NotifierConfig> Hook => new(StringComparer.Ordinal)
    {
        ["ops-hook"] = new() { Id = "ops-hook", Type = "webhook", Url = Receiver.Url, Secret = Secret },
    };

    private async Task<AlertKit> KitAsync(string rule, Func<AlertRule, AlertRule>? tweak = null) =>
        await AlertKit.StartAsync(AlertKit.ConfigWith(await StorageAsync(), AlertKit.Only([rule], Hook, tweak)));

    private async Task EvaluateAsync(AlertKit kit)
    {
        Receiver.Now = kit.Time.GetUtcNow();
        await kit.EvaluateAsync();
    }

    private List<string> NotifiedTypes() => [.. Receiver.Processed.Select(p => JsonDocument.Parse(p.Body).RootElement.GetProperty("type").GetString()!)];

    /// <summary>Fires on the bad signal and notifies once; healthy for 15 min, closes by itself and says so.</summary>
    private async Task FiresThenClosesByItselfAsync(AlertKit kit, string rule, string subject, Func<Task> healthy)
    {
        await EvaluateAsync(kit);
        var incident = await kit.SingleIncidentAsync(rule, subject);
        Assert.Equal(IncidentStatuses.Open, incident.Status);
        Assert.Equal([AlertEvents.Opened], NotifiedTypes());
        var timeline = await kit.TimelineAsync(incident.Id);
        Assert.Equal("fired", timeline[0].Kind);
        Assert.Contains(timeline, t => t.Kind == "notified" && t.Detail.Contains("ops-hook: sent", StringComparison.Ordinal));

        await healthy();
        await EvaluateAsync(kit);
        Assert.Equal(IncidentStatuses.Open, (await kit.SingleIncidentAsync(rule, subject)).Status);
        kit.Time.Advance(TimeSpan.FromMinutes(15));
        await EvaluateAsync(kit);
        var closed = await kit.SingleIncidentAsync(rule, subject);
        Assert.Equal(IncidentStatuses.Resolved, closed.Status);
        Assert.Contains(await kit.TimelineAsync(closed.Id), t => t.Kind == "closed" && t.Detail == "closed by itself: healthy for 15m");
        Assert.Equal([AlertEvents.Opened, AlertEvents.Resolved], NotifiedTypes());
    }

    [Fact]
    public async Task PaymentFailures_OverTwoPercentInThirtyMinutes_Fire_WithTheFailedOrdersAsRevenueAtRisk_ThenCloseByThemselves()
    {
        await using var kit = await KitAsync(AlertRules.PaymentFailures);
        var now = kit.Time.GetUtcNow();
        await kit.EventsAsync(EventTypes.OrderPaid, 18, now.AddMinutes(-10));
        await kit.EventsAsync(EventTypes.PaymentFailed, 2, now.AddMinutes(-5), amount: 9900);
        // Test-mode failures (a smoke run, a sandbox purchase) never count.
        await kit.EventsAsync(EventTypes.PaymentFailed, 30, now.AddMinutes(-5), test: true);

        await EvaluateAsync(kit);
        var incident = await kit.SingleIncidentAsync(AlertRules.PaymentFailures, "all");
        Assert.StartsWith("2 of 20 payment attempts failed", incident.Summary, StringComparison.Ordinal);
        Assert.Equal(19800, IncidentView.Revenue(incident)["USD"]);
        Assert.Equal(2, JsonDocument.Parse(incident.Affected).RootElement.GetArrayLength());

        // A fresh store and receiver, so the helper checks fire → close end to end.
        await ResetReceiverAsync();
        await using var again = await KitAsync(AlertRules.PaymentFailures);
        await again.EventsAsync(EventTypes.OrderPaid, 18, again.Time.GetUtcNow().AddMinutes(-10));
        await again.EventsAsync(EventTypes.PaymentFailed, 2, again.Time.GetUtcNow().AddMinutes(-5));
        await FiresThenClosesByItselfAsync(again, AlertRules.PaymentFailures, "all", () =>
        {
            again.Time.Advance(TimeSpan.FromMinutes(31));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task PaymentFailures_OnlyTestModeFailures_DoNotFire()
    {
        await using var kit = await KitAsync(AlertRules.PaymentFailures);
        var now = kit.Time.GetUtcNow();
        await kit.EventsAsync(EventTypes.OrderPaid, 20, now.AddMinutes(-10));
        await kit.EventsAsync(EventTypes.PaymentFailed, 20, now.AddMinutes(-5), test: true);
        await EvaluateAsync(kit);
        Assert.Empty(await kit.IncidentsAsync());
        Assert.Empty(Receiver.Processed);
    }

    [Fact]
    public async Task EnrollmentsDown_ThirtyPercentAgainstTheSameHourYesterday_Fires_ThenClosesByItself()
    {
        await using var kit = await KitAsync(AlertRules.EnrollmentsDown);
        await kit.DeliveriesAsync("teachable-main", 10, DeliveryStates.Succeeded);
        kit.Time.Advance(TimeSpan.FromDays(1));
        await kit.DeliveriesAsync("teachable-main", 6, DeliveryStates.Succeeded);
        kit.Time.Advance(TimeSpan.FromMinutes(30));
        await FiresThenClosesByItselfAsync(kit, AlertRules.EnrollmentsDown, "all", () =>
        {
            kit.Time.Advance(TimeSpan.FromHours(1));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task IngestionDown_HalfOfTheSameHourYesterday_FiresForTheSource_ThenClosesByItself()
    {
        await using var kit = await KitAsync(AlertRules.IngestionDown);
        var now = kit.Time.GetUtcNow();
        await kit.RawAsync("stripe-main", Enumerable.Range(0, 20).Select(i => now.AddDays(-1).AddMinutes(-50 + i)));
        await kit.RawAsync("stripe-main", Enumerable.Range(0, 9).Select(i => now.AddMinutes(-50 + i)));
        await FiresThenClosesByItselfAsync(kit, AlertRules.IngestionDown, "stripe-main", () =>
        {
            kit.Time.Advance(TimeSpan.FromHours(1));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task ReconciliationLow_BelowNinetyPercentInTheLatestAudit_Fires_ThenClosesWhenAnAuditIsBackAbove()
    {
        await using var kit = await KitAsync(AlertRules.ReconciliationLow);
        await kit.AuditAsync(0.5);
        await FiresThenClosesByItselfAsync(kit, AlertRules.ReconciliationLow, "all", () => kit.AuditAsync(0.95));
    }

    [Fact]
    public async Task DlqGrowing_DeadDeliveriesInTheWindow_FireForTheDestination_ThenCloseByThemselves()
    {
        await using var kit = await KitAsync(AlertRules.DlqGrowing);
        await kit.DeliveriesAsync("teachable-main", 3, DeliveryStates.Dead);
        await FiresThenClosesByItselfAsync(kit, AlertRules.DlqGrowing, "teachable-main", () =>
        {
            kit.Time.Advance(TimeSpan.FromMinutes(31));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task SourceSilent_LongerThanThreeTimesItsUsualGap_Fires_ThenClosesWhenEventsComeBack()
    {
        await using var kit = await KitAsync(AlertRules.SourceSilent);
        var now = kit.Time.GetUtcNow();
        // Every 10 minutes until two hours ago: silent for 12 usual gaps.
        await kit.RawAsync("stripe-main", Enumerable.Range(0, 10).Select(i => now.AddHours(-2).AddMinutes(-10 * (9 - i))));
        await FiresThenClosesByItselfAsync(kit, AlertRules.SourceSilent, "stripe-main", () => kit.RawAsync("stripe-main", [kit.Time.GetUtcNow()]));
    }

    [Fact]
    public async Task SourceSilent_DoesNotFireForAnImportSource_WhoseRowsCameInOneRun()
    {
        var config = AlertKit.ConfigWith(await StorageAsync(), AlertKit.Only([AlertRules.SourceSilent], Hook));
        config = config with
        {
            Sources = new Dictionary<string, Junction.Config.SourceConfig>(config.Sources, StringComparer.Ordinal)
            {
                ["import"] = new() { Id = "import", Provider = "import", Secrets = [] },
            },
        };
        await using var kit = await AlertKit.StartAsync(config);
        var now = kit.Time.GetUtcNow();
        var twoHoursAgo = Enumerable.Range(0, 10).Select(i => now.AddHours(-2).AddMinutes(-10 * (9 - i))).ToList();
        await kit.RawAsync("import", twoHoursAgo);
        await kit.RawAsync("stripe-main", twoHoursAgo);

        await EvaluateAsync(kit);

        var incidents = await kit.IncidentsAsync();
        Assert.Contains(incidents, i => i.Rule == AlertRules.SourceSilent && i.Subject == "stripe-main");
        Assert.DoesNotContain(incidents, i => i.Subject == "import");
    }

    [Fact]
    public async Task SmokeFailing_TheLatestRunFailed_Fires_ThenClosesWhenARunPasses()
    {
        await using var kit = await KitAsync(AlertRules.SmokeFailing);
        await kit.SmokeAsync("passed");
        await kit.SmokeAsync("failed");
        await FiresThenClosesByItselfAsync(kit, AlertRules.SmokeFailing, "smoke", () => kit.SmokeAsync("passed"));
    }

    [Fact]
    public async Task AuditOverThreshold_APointOverItsThreshold_FiresForThatPoint_WithItsRevenueAtRisk_ThenClosesWhenAnAuditIsClean()
    {
        await using var kit = await KitAsync(AlertRules.AuditOverThreshold);
        await kit.AuditAsync(null, (3, 100, 5, 0.01, 24500), (4, 100, 0, 0.01, 0));
        await EvaluateAsync(kit);
        var incident = await kit.SingleIncidentAsync(AlertRules.AuditOverThreshold, "paid_without_access");
        Assert.Equal(24500, IncidentView.Revenue(incident)["USD"]);
        await ResetReceiverAsync();
        await using var again = await KitAsync(AlertRules.AuditOverThreshold);
        await again.AuditAsync(null, (3, 100, 5, 0.01, 24500));
        await FiresThenClosesByItselfAsync(again, AlertRules.AuditOverThreshold, "paid_without_access", () => again.AuditAsync(null, (3, 100, 0, 0.01, 0)));
    }

    [Fact]
    public async Task AFlappingSignal_NotifiesOnce_AndEachReturnGoesOnTheSameIncidentsTimeline()
    {
        await using var kit = await KitAsync(AlertRules.SmokeFailing);
        for (var i = 0; i < 4; i++)
        {
            await kit.SmokeAsync("failed");
            await EvaluateAsync(kit);
            kit.Time.Advance(TimeSpan.FromMinutes(2));
            await kit.SmokeAsync("passed");
            await EvaluateAsync(kit);
            kit.Time.Advance(TimeSpan.FromMinutes(2));
        }
        var incident = await kit.SingleIncidentAsync(AlertRules.SmokeFailing);
        Assert.NotEqual(IncidentStatuses.Resolved, incident.Status);
        Assert.Equal([AlertEvents.Opened], NotifiedTypes());
        Assert.Equal(3, (await kit.TimelineAsync(incident.Id)).Count(t => t.Kind == "fired_again"));
    }

    [Fact]
    public async Task For_TheConditionMustHoldThatLong_BeforeItFires()
    {
        await using var kit = await KitAsync(AlertRules.SmokeFailing, r => r with { For = TimeSpan.FromMinutes(5) });
        await kit.SmokeAsync("failed");
        await EvaluateAsync(kit);
        kit.Time.Advance(TimeSpan.FromMinutes(3));
        await EvaluateAsync(kit);
        Assert.Empty(await kit.IncidentsAsync());
        kit.Time.Advance(TimeSpan.FromMinutes(2));
        await EvaluateAsync(kit);
        Assert.Equal(IncidentStatuses.Open, (await kit.SingleIncidentAsync(AlertRules.SmokeFailing)).Status);
        Assert.Single(Receiver.Processed);
    }

    [Fact]
    public async Task TwoEvaluatorsOnOneStore_OneOfThemEvaluates_AndTheIncidentIsNotifiedOnce()
    {
        await using var kit = await KitAsync(AlertRules.SmokeFailing);
        await kit.SmokeAsync("failed");
        Receiver.Now = kit.Time.GetUtcNow();
        var a = kit.NewEvaluator();
        var b = kit.NewEvaluator();
        var ran = await Task.WhenAll(a.TickAsync(CancellationToken.None), b.TickAsync(CancellationToken.None));
        Assert.Equal(1, ran.Count(r => r));
        // Not due again until the interval has passed, whoever asks.
        Assert.False(await a.TickAsync(CancellationToken.None));
        Assert.False(await b.TickAsync(CancellationToken.None));
        kit.Time.Advance(kit.Config.Alerts.Interval);
        Receiver.Now = kit.Time.GetUtcNow();
        Assert.Equal(1, (await Task.WhenAll(b.TickAsync(CancellationToken.None), a.TickAsync(CancellationToken.None))).Count(r => r));
        Assert.Single(await kit.IncidentsAsync());
        Assert.Single(Receiver.Processed);
    }

    [Fact]
    public async Task TwoEvaluationsRacing_WithoutTheElection_OpenOneIncident_AndNotifyOnce()
    {
        await using var kit = await KitAsync(AlertRules.SmokeFailing);
        await kit.SmokeAsync("failed");
        Receiver.Now = kit.Time.GetUtcNow();
        var a = kit.NewEvaluator();
        var b = kit.NewEvaluator();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).EvaluateAsync(CancellationToken.None))));
        Assert.Single(await kit.IncidentsAsync());
        Assert.Single(Receiver.Processed);
    }

    [Fact]
    public async Task AnAcknowledgedIncident_IsNotNotifiedAgain_AndASnoozeThatEndsWhileFiring_RemindsOnce()
    {
        await using var kit = await KitAsync(AlertRules.SmokeFailing);
        await kit.SmokeAsync("failed");
        await EvaluateAsync(kit);
        var incident = await kit.SingleIncidentAsync(AlertRules.SmokeFailing);
        Assert.Equal(IncidentOutcome.Done, (await kit.Actions.AckAsync(incident.Id, "ops", "looking", CancellationToken.None)).Outcome);
        await EvaluateAsync(kit);
        Assert.Equal(IncidentStatuses.Acknowledged, (await kit.SingleIncidentAsync(AlertRules.SmokeFailing)).Status);
        Assert.Single(Receiver.Processed);

        Assert.Equal(IncidentOutcome.Done, (await kit.Actions.SnoozeAsync(incident.Id, TimeSpan.FromHours(1), "ops", CancellationToken.None)).Outcome);
        kit.Time.Advance(TimeSpan.FromMinutes(30));
        await EvaluateAsync(kit);
        Assert.Single(Receiver.Processed);
        kit.Time.Advance(TimeSpan.FromMinutes(31));
        await EvaluateAsync(kit);
        await EvaluateAsync(kit);
        Assert.Equal(IncidentStatuses.Open, (await kit.SingleIncidentAsync(AlertRules.SmokeFailing)).Status);
        Assert.Equal([AlertEvents.Opened, AlertEvents.Reminder], NotifiedTypes());
        var kinds = (await kit.TimelineAsync(incident.Id)).Select(t => (t.Kind, t.Actor)).ToList();
        Assert.Contains(("ack", "ops"), kinds);
        Assert.Contains(("snooze", "ops"), kinds);
        Assert.Contains(("snooze_ended", null), kinds);
    }

    private async Task ResetReceiverAsync()
    {
        await Receiver.DisposeAsync();
        _receiver = await FakeWebhookReceiver.StartAsync(Secret);
    }
}

public sealed class SqliteAlertRuleTests : AlertRuleTests
{
    protected override Task<string> StorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresAlertRuleTests : AlertRuleTests
{
    protected override Task<string> StorageAsync() => TestStorage.NewPostgresAsync();
}
