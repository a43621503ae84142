using Junction.Dispatch;
using Junction.Integrations.ActiveCampaign;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using static Junction.Tests.Dispatch.Scenarios.ScenarioRig;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Integrations.ActiveCampaign;

/// <summary>
/// Issue 14 acceptance 2 for ActiveCampaign, through the real intake (POST /v1/events) with the
/// scenario rig plus an ActiveCampaign destination on its stateful fake. Run per storage engine.
/// </summary>
public abstract class ActiveCampaignScenarioTests
{
    private const string AcId = "ac";
    private const string Ada = "ada@example.com";

    protected abstract Task<string> NewStorageAsync();

    private async Task<(ScenarioRig Rig, FakeActiveCampaign Ac)> RigAsync(Action<DispatchOptions>? options = null, Dictionary<string, string>? fields = null)
    {
        var ac = await FakeActiveCampaign.StartAsync();
        var destination = new DestinationConfig
        {
            Id = AcId,
            Type = ActiveCampaignDestination.Type, Traits = DestinationTypes.TraitsOf(ActiveCampaignDestination.Type),
            BaseUrl = ac.BaseUrl,
            RateLimit = 100,
            RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = FakeActiveCampaign.ApiKey },
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["list_id"] = FakeActiveCampaign.ListId },
            Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = PaidTag, ["customer"] = CustomerTag },
            Fields = fields ?? new Dictionary<string, string>(StringComparer.Ordinal),
        };
        var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), options, configure: c => c with
        {
            Destinations = new Dictionary<string, DestinationConfig>(c.Destinations, StringComparer.Ordinal) { [AcId] = destination },
        });
        return (rig, ac);
    }

    [Fact]
    public async Task Purchase_TagsTheContact_Refund_RemovesThePaidTag()
    {
        var (rig, ac) = await RigAsync();
        await using var _ = rig;
        await using var __ = ac;

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => ac.TagsOf(Ada).Contains(PaidTag), "the ActiveCampaign paid tag");
        Assert.Equal([CustomerTag, PaidTag], ac.TagsOf(Ada));

        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.EventuallyAsync(() => !ac.TagsOf(Ada).Contains(PaidTag), "the paid tag removal");
        await rig.SettledAsync();
        Assert.DoesNotContain(PaidTag, ac.TagsOf(Ada));
        Assert.Equal(1, ac.ContactCount);
        Assert.Equal(1, ac.TagCount(PaidTag));
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
    }

    [Fact]
    public async Task RateLimitStorm_NoCallBeforeRetryAfter_AndLosesNothing()
    {
        var (rig, ac) = await RigAsync(o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(5); // the rig's short cap would also cap Retry-After
        });
        await using var _ = rig;
        await using var __ = ac;
        const int storm = 3;
        ac.RateLimitNext(storm, retryAfter: "1");
        var people = Enumerable.Range(1, 3).Select(i => $"buyer{i}@example.com").ToList();

        foreach (var (email, i) in people.Select((e, i) => (e, i))) await rig.PostAsync(Paid($"ord_{i}", email, "2026-11-01T10:00:00Z"));

        await rig.EventuallyAsync(() => people.All(p => ac.TagsOf(p).Contains(PaidTag)), "every buyer tagged at ActiveCampaign", seconds: 20);
        var calls = ac.Api.Requests.Select(r => r.At).ToList();
        for (var i = 0; i < storm; i++)
        {
            // Calls 0..storm-1 were answered 429 with Retry-After: 1; the next may come no sooner.
            var gap = calls[i + 1] - calls[i];
            Assert.True(gap >= TimeSpan.FromMilliseconds(980), $"call {i + 1} came {gap.TotalMilliseconds} ms after a 429 with Retry-After: 1");
        }
        await rig.SettledAsync();
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
        Assert.All(await rig.DeliveriesAsync("destination=" + AcId), t => Assert.Equal(1, t.GetProperty("attempts").GetInt32()));
    }

    [Fact]
    public async Task MissingCustomField_GoesToTheDlq_ReplayAfterCreatingIt_Delivers()
    {
        var (rig, ac) = await RigAsync(fields: new Dictionary<string, string>(StringComparer.Ordinal) { ["ltv_usd"] = "LTV" });
        await using var _ = rig;
        await using var __ = ac;

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        var dead = Assert.Single(await rig.WaitForDeliveriesAsync($"destination={AcId}&state=dead", d => d.Count == 1));
        Assert.Contains("no custom field 'LTV'", dead.GetProperty("dead_reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, ac.ContactCount);

        // The fix: the creator adds the field in ActiveCampaign.
        var ltv = ac.AddField("Lifetime value", "LTV");
        var replay = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        await rig.EventuallyAsync(() => ac.TagsOf(Ada).Contains(PaidTag), "the replayed sync");
        Assert.Equal("49.00", ac.ContactOf(Ada)!.Fields[ltv]);
        await rig.SettledAsync();
        Assert.Equal("succeeded", Assert.Single(await rig.DeliveriesAsync("destination=" + AcId)).GetProperty("state").GetString());
    }
}

public sealed class SqliteActiveCampaignScenarioTests : ActiveCampaignScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresActiveCampaignScenarioTests : ActiveCampaignScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
