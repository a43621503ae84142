using Junction.Dispatch;
using Junction.Integrations.Klaviyo;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using static Junction.Tests.Dispatch.Scenarios.ScenarioRig;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Integrations.Klaviyo;

/// <summary>
/// Issue 14 acceptance 2 for Klaviyo's state path, through the real intake (POST /v1/events) with the
/// scenario rig plus a Klaviyo destination on its stateful fake. Run per storage engine. Order events
/// reach a state destination only once the planner lets one take events too; until then the event
/// path is covered by <see cref="KlaviyoConnectorTests"/>.
/// </summary>
public abstract class KlaviyoScenarioTests
{
    private const string KlaviyoId = "klaviyo";
    private const string Ada = "ada@example.com";
    private const string NewListId = "NewL1s";

    protected abstract Task<string> NewStorageAsync();

    private async Task<(ScenarioRig Rig, FakeKlaviyo Klaviyo)> RigAsync(Action<DispatchOptions>? options = null, string customerTag = CustomerTag)
    {
        var klaviyo = await FakeKlaviyo.StartAsync();
        var destination = new DestinationConfig
        {
            Id = KlaviyoId,
            Type = KlaviyoDestination.Type, Traits = DestinationTypes.TraitsOf(KlaviyoDestination.Type),
            BaseUrl = klaviyo.BaseUrl,
            RateLimit = 100,
            RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = FakeKlaviyo.ApiKey },
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["list_id"] = FakeKlaviyo.ListId },
            Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = PaidTag, ["customer"] = customerTag },
        };
        var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), options, configure: c => c with
        {
            Destinations = new Dictionary<string, DestinationConfig>(c.Destinations, StringComparer.Ordinal) { [KlaviyoId] = destination },
        });
        return (rig, klaviyo);
    }

    [Fact]
    public async Task Purchase_TagsTheProfile_Refund_RemovesThePaidTag()
    {
        var (rig, klaviyo) = await RigAsync();
        await using var _ = rig;
        await using var __ = klaviyo;

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => klaviyo.TagsOf(Ada).Contains(PaidTag), "the Klaviyo paid tag");
        Assert.Equal([CustomerTag, PaidTag], klaviyo.TagsOf(Ada));

        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.EventuallyAsync(() => !klaviyo.TagsOf(Ada).Contains(PaidTag), "the paid tag removal");
        await rig.SettledAsync();
        Assert.DoesNotContain(PaidTag, klaviyo.TagsOf(Ada));
        Assert.Equal(1, klaviyo.ProfileCount);
        // A buyer who never opted in is not subscribed.
        Assert.Equal("NEVER_SUBSCRIBED", klaviyo.ConsentOf(Ada));
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
        // The same destination records the orders as events, through the real intake and planner: once each.
        Assert.Equal(["Placed Order", "Refunded Order"], klaviyo.Events.Where(e => e.Email == Ada).Select(e => e.Metric).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task OptIn_Subscribes_ThenUnsubscribe_RunsTheUnsubscribeJob()
    {
        var (rig, klaviyo) = await RigAsync();
        await using var _ = rig;
        await using var __ = klaviyo;

        await rig.PostAsync(OptIn(Ada, "2026-11-01T09:00:00Z"));
        await rig.EventuallyAsync(() => klaviyo.ConsentOf(Ada) == "SUBSCRIBED" && klaviyo.InList(FakeKlaviyo.ListId, Ada), "the Klaviyo subscribe");

        await rig.PostAsync(Unsubscribe(Ada, "2026-11-03T10:00:00Z"));
        await rig.EventuallyAsync(() => klaviyo.ConsentOf(Ada) == "UNSUBSCRIBED", "the Klaviyo unsubscribe");
    }

    [Fact]
    public async Task RateLimitStorm_NoCallBeforeRetryAfter_AndLosesNothing()
    {
        var (rig, klaviyo) = await RigAsync(o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(5); // the rig's short cap would also cap Retry-After
        });
        await using var _ = rig;
        await using var __ = klaviyo;
        const int storm = 3;
        klaviyo.RateLimitNext(storm, retryAfter: "1");
        var people = Enumerable.Range(1, 3).Select(i => $"buyer{i}@example.com").ToList();

        foreach (var (email, i) in people.Select((e, i) => (e, i))) await rig.PostAsync(Paid($"ord_{i}", email, "2026-11-01T10:00:00Z"));

        await rig.EventuallyAsync(() => people.All(p => klaviyo.TagsOf(p).Contains(PaidTag)), "every buyer tagged at Klaviyo", seconds: 20);
        var calls = klaviyo.Api.Requests.Select(r => r.At).ToList();
        for (var i = 0; i < storm; i++)
        {
            // Calls 0..storm-1 were answered 429 with Retry-After: 1; the next may come no sooner.
            var gap = calls[i + 1] - calls[i];
            Assert.True(gap >= TimeSpan.FromMilliseconds(980), $"call {i + 1} came {gap.TotalMilliseconds} ms after a 429 with Retry-After: 1");
        }
        await rig.SettledAsync();
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
        Assert.All(await rig.DeliveriesAsync("destination=" + KlaviyoId), t => Assert.Equal(1, t.GetProperty("attempts").GetInt32()));
    }

    [Fact]
    public async Task TagMappedToAMissingList_GoesToTheDlq_ReplayAfterCreatingIt_Delivers()
    {
        var (rig, klaviyo) = await RigAsync(customerTag: "list:" + NewListId);
        await using var _ = rig;
        await using var __ = klaviyo;

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        var dead = Assert.Single(await rig.WaitForDeliveriesAsync($"destination={KlaviyoId}&state=dead", d => d.Count == 1));
        Assert.Contains("404", dead.GetProperty("dead_reason").GetString(), StringComparison.Ordinal);
        Assert.False(klaviyo.InList(NewListId, Ada));

        // The fix: the creator creates the list in Klaviyo.
        klaviyo.AddList(NewListId);
        var replay = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        await rig.EventuallyAsync(() => klaviyo.InList(NewListId, Ada), "the replayed list membership");
        await rig.SettledAsync();
        Assert.Equal([PaidTag], klaviyo.TagsOf(Ada));
        Assert.Equal(1, klaviyo.ProfileCount);
        Assert.All(await rig.DeliveriesAsync("destination=" + KlaviyoId), d => Assert.Equal("succeeded", d.GetProperty("state").GetString()));
        Assert.Single(klaviyo.Events, e => e.Metric == "Placed Order");
    }
}

public sealed class SqliteKlaviyoScenarioTests : KlaviyoScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresKlaviyoScenarioTests : KlaviyoScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
