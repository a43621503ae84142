using Junction.Dispatch;
using Junction.Integrations.Kajabi;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Integrations.Kajabi;

/// <summary>
/// Issue 14 scenarios for the Kajabi destination through the real intake (POST /v1/events), against
/// its stateful fake; each asserts which offers Kajabi ends up granting. Run per storage engine.
/// </summary>
public abstract class KajabiScenarioTests
{
    private const string Ada = "ada@example.com";
    private const string Id = "kajabi";
    private const string Offer = "2150";

    protected abstract Task<string> NewStorageAsync();

    private async Task<ScenarioRig> RigAsync(FakeKajabi kajabi, Action<DispatchOptions>? options = null)
    {
        var destination = new DestinationConfig
        {
            Id = Id, Type = KajabiDestination.Type, Traits = DestinationTypes.TraitsOf(KajabiDestination.Type), BaseUrl = kajabi.BaseUrl, RateLimit = 100, RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["client_id"] = FakeKajabi.ClientId, ["client_secret"] = FakeKajabi.ClientSecret },
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["site_id"] = FakeKajabi.SiteId },
            Courses = new Dictionary<string, string>(StringComparer.Ordinal) { ["course-pro"] = Offer },
        };
        return await ScenarioRig.StartAsync(await NewStorageAsync(), options,
            configure: c => c with { Destinations = new Dictionary<string, DestinationConfig>(c.Destinations, StringComparer.Ordinal) { [Id] = destination } });
    }

    [Fact]
    public async Task Purchase_GrantsTheMappedOffer_Refund_RevokesIt()
    {
        await using var kajabi = await FakeKajabi.StartAsync(Offer);
        await using var rig = await RigAsync(kajabi);

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => kajabi.OffersOf(Ada).Count == 1, "the Kajabi offer grant");
        Assert.Equal([Offer], kajabi.OffersOf(Ada));

        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.EventuallyAsync(() => kajabi.OffersOf(Ada).Count == 0, "the Kajabi offer revoke");
        await rig.SettledAsync();

        Assert.Equal(1, kajabi.Grants);
        Assert.Equal(1, kajabi.Api.Count("DELETE /v1/contacts/"));
        Assert.Equal(1, kajabi.ContactCount);
        Assert.Equal(1, kajabi.TokensIssued); // one token for both deliveries
    }

    [Fact]
    public async Task RateLimitStorm_NoCallBeforeRetryAfter_AndNothingLost()
    {
        await using var kajabi = await FakeKajabi.StartAsync(Offer);
        kajabi.RetryAfterSeconds = 1;
        const int storm = 2;
        await using var rig = await RigAsync(kajabi, o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(5);
        });
        var people = Enumerable.Range(1, 3).Select(i => $"member{i}@example.com").ToList();
        kajabi.RateLimitNext(storm);

        foreach (var (email, i) in people.Select((e, i) => (e, i)))
        {
            await rig.PostAsync(Paid($"ord_{i}", email, "2026-11-01T10:00:00Z"));
        }

        await rig.EventuallyAsync(() => people.All(p => kajabi.OffersOf(p).Count == 1), "every member granted", seconds: 25);
        // The token call is not rate limited here; the 429s are the first data calls.
        var calls = kajabi.Api.Requests.Where(r => !r.Request.StartsWith("POST /v1/oauth/token", StringComparison.Ordinal)).Select(r => r.At).ToList();
        for (var i = 0; i < storm; i++)
        {
            var gap = calls[i + 1] - calls[i];
            Assert.True(gap >= TimeSpan.FromMilliseconds(980), $"call {i + 1} came {gap.TotalMilliseconds} ms after a 429 with Retry-After: 1");
        }
        await rig.SettledAsync();
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
        Assert.Equal(people.Count, kajabi.ContactCount);
    }

    [Fact]
    public async Task UnknownOffer_GoesToTheDlq_ReplayAfterTheFix_GrantsOnce()
    {
        // The creator mapped offer 2150 before publishing it in Kajabi: 404 "Offer 2150 not found".
        await using var kajabi = await FakeKajabi.StartAsync();
        await using var rig = await RigAsync(kajabi);

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        var dead = Assert.Single(await rig.WaitForDeliveriesAsync($"destination={Id}&state=dead", d => d.Count == 1));
        Assert.Contains("Offer 2150 not found", dead.GetProperty("dead_reason").GetString(), StringComparison.Ordinal);
        Assert.Empty(kajabi.OffersOf(Ada));

        kajabi.AddOffer(Offer);
        var replay = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        await rig.EventuallyAsync(() => kajabi.OffersOf(Ada).Count == 1, "the replayed grant");
        await rig.SettledAsync();
        await Task.Delay(300);
        Assert.Equal([Offer], kajabi.OffersOf(Ada));
        Assert.Equal(1, kajabi.Grants);
        Assert.Equal(1, kajabi.ContactCount); // the contact created before the 404 was found again
        Assert.Equal("succeeded", Assert.Single(await rig.DeliveriesAsync($"destination={Id}")).GetProperty("state").GetString());
    }
}

public sealed class SqliteKajabiScenarioTests : KajabiScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresKajabiScenarioTests : KajabiScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
