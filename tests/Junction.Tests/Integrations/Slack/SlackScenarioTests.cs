using Junction.Dispatch;
using Junction.Integrations.Slack;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Integrations.Slack;

/// <summary>The Slack notifier end to end through the real intake (POST /v1/events), per storage engine, against <see cref="FakeSlack"/>.</summary>
public abstract class SlackScenarioTests
{
    private const string Ada = "ada@example.com";
    private const string Id = "slack";

    protected abstract Task<string> NewStorageAsync();

    private async Task<(ScenarioRig Rig, FakeSlack Slack)> RigAsync(Action<DispatchOptions>? options = null)
    {
        var slack = await FakeSlack.StartAsync();
        var destination = new DestinationConfig
        {
            Id = Id, Type = SlackDestination.Type, Traits = DestinationTypes.TraitsOf(SlackDestination.Type), BaseUrl = new Uri(SlackDestination.DefaultBaseUrl), RateLimit = 100,
            RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["webhook_url"] = slack.WebhookUrl },
        };
        var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), options, configure: c => c with
        {
            Destinations = new Dictionary<string, DestinationConfig>(c.Destinations, StringComparer.Ordinal) { [Id] = destination },
        });
        return (rig, slack);
    }

    [Fact]
    public async Task Purchase_PostsTheSale_Refund_PostsTheRefund_AndAnOptInPostsNothing()
    {
        var (rig, slack) = await RigAsync();
        await using var _ = rig;
        await using var __ = slack;

        await rig.PostAsync(OptIn(Ada, "2026-11-01T09:00:00Z"));
        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => slack.Messages.Count == 1, "the sale notification");
        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.EventuallyAsync(() => slack.Messages.Count == 2, "the refund notification");
        await rig.SettledAsync();

        Assert.Contains("New sale: 49.00 USD for course-pro by a***@e***.com", slack.Messages[0], StringComparison.Ordinal);
        Assert.Contains("Refund: 49.00 USD", slack.Messages[1], StringComparison.Ordinal);
        Assert.All(slack.Messages, m => Assert.DoesNotContain(Ada, m, StringComparison.Ordinal));
        Assert.Equal(2, slack.Api.Requests.Count); // the opt-in was not notified
    }

    [Fact]
    public async Task RateLimitStorm_NoPostBeforeRetryAfter_AndNothingLost()
    {
        var (rig, slack) = await RigAsync(o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(5);
        });
        await using var _ = rig;
        await using var __ = slack;
        const int storm = 2;
        slack.RateLimitNext(storm, retryAfter: "1");

        for (var i = 0; i < 3; i++) await rig.PostAsync(Paid($"ord_{i}", $"buyer{i}@example.com", "2026-11-01T10:00:00Z"));

        await rig.EventuallyAsync(() => slack.Messages.Count == 3, "every sale notified", seconds: 20);
        var calls = slack.Api.Requests.Select(r => r.At).ToList();
        for (var i = 0; i < storm; i++)
        {
            var gap = calls[i + 1] - calls[i];
            Assert.True(gap >= TimeSpan.FromMilliseconds(980), $"post {i + 1} came {gap.TotalMilliseconds} ms after a 429 with Retry-After: 1");
        }
        await rig.SettledAsync();
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
    }

    [Fact]
    public async Task ArchivedChannel_GoesToTheDlq_ReplayAfterUnarchiving_PostsOnce()
    {
        var (rig, slack) = await RigAsync();
        await using var _ = rig;
        await using var __ = slack;
        slack.Archived = true;

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        var dead = Assert.Single(await rig.WaitForDeliveriesAsync($"destination={Id}&state=dead", d => d.Count == 1));
        Assert.Contains("channel_is_archived", dead.GetProperty("dead_reason").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(FakeSlack.HookPath, dead.ToString(), StringComparison.Ordinal);

        slack.Archived = false;
        var replay = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        await rig.EventuallyAsync(() => slack.Messages.Count == 1, "the replayed notification");
        await rig.SettledAsync();
        await Task.Delay(300);
        Assert.Single(slack.Messages);
        Assert.Equal(2, slack.Api.Requests.Count);
    }
}

public sealed class SqliteSlackScenarioTests : SlackScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresSlackScenarioTests : SlackScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
