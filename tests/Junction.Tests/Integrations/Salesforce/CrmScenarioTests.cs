using Junction.Dispatch;
using Junction.Integrations.HubSpot;
using Junction.Integrations.Salesforce;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Integrations.HubSpot;
using Junction.Tests.Support;
using static Junction.Tests.Dispatch.Scenarios.ScenarioRig;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Integrations.Salesforce;

/// <summary>
/// HubSpot and Salesforce through the real intake (POST /v1/events), beside the rig's other
/// destinations, asserting what the fakes end up holding. Run per storage engine.
/// </summary>
public abstract class CrmScenarioTests
{
    private const string Ada = "ada@example.com";
    private const string HubId = "crm";
    private const string SfId = "sf";

    protected abstract Task<string> NewStorageAsync();

    private sealed class Crm : IAsyncDisposable
    {
        public required ScenarioRig Rig { get; init; }
        public required FakeHubSpot Hub { get; init; }
        public required FakeSalesforce Sf { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Rig.DisposeAsync();
            await Hub.DisposeAsync();
            await Sf.DisposeAsync();
        }
    }

    private async Task<Crm> StartAsync(Action<DispatchOptions>? options = null)
    {
        var hub = await FakeHubSpot.StartAsync();
        var sf = await FakeSalesforce.StartAsync();
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = PaidTag, ["customer"] = CustomerTag };
        var retry = TimeSpan.FromMilliseconds(100);
        var crm = new DestinationConfig[]
        {
            new()
            {
                Id = HubId, Type = HubSpotDestination.Type, Traits = DestinationTypes.TraitsOf(HubSpotDestination.Type), BaseUrl = hub.BaseUrl, RateLimit = 100, RetryBaseDelay = retry, Tags = tags,
                Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { [HubSpotDestination.AccessToken] = FakeHubSpot.Token },
            },
            new()
            {
                Id = SfId, Type = SalesforceDestination.Type, Traits = DestinationTypes.TraitsOf(SalesforceDestination.Type), BaseUrl = sf.BaseUrl, RateLimit = 100, RetryBaseDelay = retry, Tags = tags,
                Fields = new Dictionary<string, string>(StringComparer.Ordinal) { ["email"] = "LastName" }, // LastName is required on create
                Credentials = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [SalesforceDestination.ClientId] = FakeSalesforce.ClientId, [SalesforceDestination.ClientSecret] = FakeSalesforce.ClientSecret,
                },
                Options = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [SalesforceDestination.ExternalIdField] = FakeSalesforce.ExternalId, [SalesforceDestination.TagsField] = FakeSalesforce.TagsField,
                },
            },
        };
        var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), options, configure: c => c with
        {
            Destinations = c.Destinations.Values.Concat(crm).ToDictionary(d => d.Id, StringComparer.Ordinal),
        });
        return new Crm { Rig = rig, Hub = hub, Sf = sf };
    }

    [Fact]
    public async Task Purchase_TagsTheContactInBothCrms_Refund_RemovesThePaidTag()
    {
        await using var crm = await StartAsync();

        await crm.Rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        await crm.Rig.EventuallyAsync(() => crm.Hub.TagsOf(Ada).Contains(PaidTag), "the HubSpot paid tag");
        await crm.Rig.EventuallyAsync(() => crm.Sf.TagsOf(Ada).Contains(PaidTag), "the Salesforce paid tag");
        Assert.Equal([CustomerTag, PaidTag], crm.Hub.TagsOf(Ada));
        Assert.Equal([CustomerTag, PaidTag], crm.Sf.TagsOf(Ada));

        await crm.Rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));

        await crm.Rig.EventuallyAsync(() => !crm.Hub.TagsOf(Ada).Contains(PaidTag), "the HubSpot paid tag removal");
        await crm.Rig.EventuallyAsync(() => !crm.Sf.TagsOf(Ada).Contains(PaidTag), "the Salesforce paid tag removal");
        await crm.Rig.SettledAsync();
        Assert.Empty(await crm.Rig.DeliveriesAsync("state=dead"));
        Assert.Equal(1, crm.Hub.ContactCount);
        Assert.Equal(1, crm.Sf.ContactCount);
        Assert.Equal(1, crm.Sf.TokensIssued);
    }

    [Fact]
    public async Task HubSpotRateLimitStorm_NoCallBeforeItsIntervalIsOver_AndLosesNothing()
    {
        await using var crm = await StartAsync(o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(5);
        });
        // HubSpot's 429 names no Retry-After, only its window in milliseconds (10 000 in production).
        crm.Hub.IntervalMilliseconds = 1000;
        const int storm = 2;
        crm.Hub.RateLimitNext(storm);
        var people = Enumerable.Range(1, 3).Select(i => $"buyer{i}@example.com").ToList();

        foreach (var (email, i) in people.Select((e, i) => (e, i))) await crm.Rig.PostAsync(Paid($"ord_{i}", email, "2026-11-01T10:00:00Z"));

        await crm.Rig.EventuallyAsync(() => people.All(p => crm.Hub.TagsOf(p).Contains(PaidTag)), "every buyer tagged at HubSpot", seconds: 20);
        var calls = crm.Hub.Api.Requests.Select(r => r.At).ToList();
        for (var i = 0; i < storm; i++)
        {
            var gap = calls[i + 1] - calls[i];
            Assert.True(gap >= TimeSpan.FromMilliseconds(980), $"call {i + 1} came {gap.TotalMilliseconds} ms after a 429 naming a 1000 ms interval");
        }
        await crm.Rig.SettledAsync();
        Assert.Empty(await crm.Rig.DeliveriesAsync("state=dead"));
        Assert.All(await crm.Rig.DeliveriesAsync("destination=" + HubId), t => Assert.Equal(1, t.GetProperty("attempts").GetInt32()));
    }

    [Fact]
    public async Task SalesforceRequestLimit_HoldsTheDestination_NotDeadLettered_ThenDelivers()
    {
        await using var crm = await StartAsync(o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(1); // caps Salesforce's 5-minute wait for the test
        });
        crm.Sf.LimitNext(1);

        await crm.Rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        await crm.Rig.EventuallyAsync(() => crm.Sf.TagsOf(Ada).Contains(PaidTag), "the Salesforce paid tag after the limit", seconds: 20);
        var patches = crm.Sf.Api.Requests.Where(r => r.Request.StartsWith("PATCH ", StringComparison.Ordinal)).Select(r => r.At).ToList();
        Assert.Equal(2, patches.Count);
        Assert.True(patches[1] - patches[0] >= TimeSpan.FromMilliseconds(980), $"the retry came {(patches[1] - patches[0]).TotalMilliseconds} ms after REQUEST_LIMIT_EXCEEDED");
        await crm.Rig.SettledAsync();
        Assert.Equal(1, Assert.Single(await crm.Rig.DeliveriesAsync("destination=" + SfId)).GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task PermanentHubSpotError_GoesToTheDlq_ReplayAfterTheFix_Delivers()
    {
        await using var crm = await StartAsync();
        crm.Hub.RefuseNextContactWrites(1);

        await crm.Rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        var dead = Assert.Single(await crm.Rig.WaitForDeliveriesAsync($"destination={HubId}&state=dead", d => d.Count == 1));
        Assert.Contains("VALIDATION_ERROR", dead.GetProperty("dead_reason").GetString(), StringComparison.Ordinal);
        Assert.Empty(crm.Hub.TagsOf(Ada));

        var replay = await ScenarioRig.JsonAsync(await crm.Rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        await crm.Rig.EventuallyAsync(() => crm.Hub.TagsOf(Ada).Contains(PaidTag), "the replayed HubSpot sync");
        await crm.Rig.SettledAsync();
        Assert.Equal("succeeded", Assert.Single(await crm.Rig.DeliveriesAsync("destination=" + HubId)).GetProperty("state").GetString());
        Assert.Equal(2, crm.Hub.Api.Count("POST /crm/v3/objects/contacts/batch/upsert"));
    }

    [Fact]
    public async Task PermanentSalesforceError_GoesToTheDlq_ReplayAfterTheFix_Delivers()
    {
        await using var crm = await StartAsync();
        // The org lacks the tags field the config names: Salesforce answers 400 INVALID_FIELD, which no retry changes.
        crm.Sf.Fields.Remove(FakeSalesforce.TagsField);

        await crm.Rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        var dead = Assert.Single(await crm.Rig.WaitForDeliveriesAsync($"destination={SfId}&state=dead", d => d.Count == 1));
        Assert.Contains("INVALID_FIELD", dead.GetProperty("dead_reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, dead.GetProperty("attempts").GetInt32());
        Assert.Equal(0, crm.Sf.ContactCount);

        // The fix: the admin creates the field in Salesforce; the replay delivers once.
        crm.Sf.Fields.Add(FakeSalesforce.TagsField);
        var replay = await ScenarioRig.JsonAsync(await crm.Rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        await crm.Rig.EventuallyAsync(() => crm.Sf.TagsOf(Ada).Contains(PaidTag), "the replayed Salesforce upsert");
        await crm.Rig.SettledAsync();
        Assert.Equal(1, crm.Sf.ContactCount);
        Assert.Equal("succeeded", Assert.Single(await crm.Rig.DeliveriesAsync("destination=" + SfId)).GetProperty("state").GetString());
    }
}

public sealed class SqliteCrmScenarioTests : CrmScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresCrmScenarioTests : CrmScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
