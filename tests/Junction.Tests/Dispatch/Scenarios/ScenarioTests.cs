using System.Net;
using System.Text.Json;
using Junction.Tests.Support;
using static Junction.Tests.Dispatch.Scenarios.ScenarioRig;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Dispatch.Scenarios;

/// <summary>
/// Issue 6 scenarios through the real intake (POST /v1/events): each one asserts what the fake
/// destination ends up holding, not only Junction's bookkeeping. Run per storage engine.
/// </summary>
public abstract class ScenarioTests
{
    private const string Ada = "ada@example.com";

    protected abstract Task<string> NewStorageAsync();

    private async Task<ScenarioRig> RigAsync(Action<Junction.Dispatch.DispatchOptions>? options = null,
        Func<Junction.Dispatch.DestinationConfig, Junction.Dispatch.DestinationConfig>? destination = null) =>
        await ScenarioRig.StartAsync(await NewStorageAsync(), options, destination);

    [Fact]
    public async Task Purchase_TagsInKit_EnrollsInTeachable_SignsTheWebhook_AndSendsTheGa4Purchase()
    {
        await using var rig = await RigAsync();

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(PaidTag), "the Kit paid tag");
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Count == 1, "the Teachable enrollment");
        await rig.EventuallyAsync(() => rig.Hook.Processed.Count == 1, "the outgoing webhook");
        await rig.EventuallyAsync(() => rig.Ga4.Events.Count == 1, "the GA4 purchase");

        Assert.Equal([CustomerTag, PaidTag], rig.Kit.TagsOf(Ada));
        Assert.Equal([CourseId], rig.Teachable.ActiveCourses(Ada));
        var (webhookId, body) = Assert.Single(rig.Hook.Processed);
        Assert.False(string.IsNullOrEmpty(webhookId));
        Assert.Equal(0, rig.Hook.SignatureFailures); // the receiver verified webhook-signature before processing it
        var message = JsonDocument.Parse(body).RootElement;
        Assert.Contains("order.paid", body, StringComparison.Ordinal);
        Assert.Contains("ord_1", message.ToString(), StringComparison.Ordinal);
        var purchase = Assert.Single(rig.Ga4.Events);
        Assert.Equal("purchase", purchase.Name);
        Assert.Equal("ord_1", purchase.Params["transaction_id"]!.GetValue<string>());
        Assert.Equal(0, rig.Ga4.DroppedPayloads);
    }

    [Fact]
    public async Task Refund_RemovesTheTag_AndUnenrolls()
    {
        await using var rig = await RigAsync();
        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(PaidTag) && rig.Teachable.ActiveCourses(Ada).Count == 1, "the purchase sync");

        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));

        await rig.EventuallyAsync(() => !rig.Kit.TagsOf(Ada).Contains(PaidTag), "the paid tag removal");
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Count == 0, "the unenrollment");
        await rig.SettledAsync();
        Assert.DoesNotContain(PaidTag, rig.Kit.TagsOf(Ada));
        Assert.Empty(rig.Teachable.ActiveCourses(Ada));
        Assert.Equal(1, rig.Teachable.Api.Count("POST /v1/unenroll"));
        Assert.Contains(rig.Ga4.Events, e => e.Name == "refund" && e.Params["transaction_id"]!.GetValue<string>() == "ord_1");
    }

    [Fact]
    public async Task RefundBeforeItsPurchase_LeavesNoTag_AndNoEnrollment()
    {
        await using var rig = await RigAsync();

        // The refund happened later but arrives first.
        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        await PersonAsync(rig.Server, $"/v1/people?email={Uri.EscapeDataString(Ada)}",
            p => p.TryGetProperty("orders", out var o) && o.ValueKind == JsonValueKind.Array && o.GetArrayLength() == 1);
        await rig.EventuallyAsync(() => rig.Hook.Processed.Count == 2, "both events at the webhook receiver");
        await rig.SettledAsync();
        await Task.Delay(300); // anything still to come would be a bug

        Assert.DoesNotContain(PaidTag, rig.Kit.TagsOf(Ada));
        Assert.Empty(rig.Teachable.ActiveCourses(Ada));
        Assert.Equal(0, rig.Teachable.Api.Count("POST /v1/enroll"));
        Assert.Empty(rig.KitTagAdds());
        // Nobody who never had to be there was created: no untagged Kit subscriber, no Teachable user.
        Assert.Equal(0, rig.Kit.SubscriberCount);
        Assert.Equal(0, rig.Teachable.UserCount);
    }

    [Fact]
    public async Task ThirtyDuplicatePurchases_PostedConcurrently_AddTheTagOnce()
    {
        await using var rig = await RigAsync();
        var json = Paid("ord_1", Ada, "2026-11-01T10:00:00Z");

        await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => rig.PostAsync(json)));

        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(PaidTag) && rig.Teachable.ActiveCourses(Ada).Count == 1, "the purchase sync");
        await rig.SettledAsync();
        await Task.Delay(300);
        var adds = rig.KitTagAdds();
        Assert.Equal(2, adds.Count); // the paid tag and the customer tag
        Assert.All(adds.Values, count => Assert.Equal(1, count));
        Assert.Equal(1, rig.Teachable.Api.Count("POST /v1/enroll"));
        Assert.Single(rig.Hook.Processed);
        Assert.Single(rig.Ga4.Events);
    }

    [Fact]
    public async Task DestinationDownForAWhile_ConvergesAfterItComesBack()
    {
        await using var rig = await RigAsync();
        rig.Kit.FailNext(int.MaxValue, 503);
        rig.Teachable.FailNext(int.MaxValue, 503);

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.WaitForDeliveriesAsync("destination=kit", d => d.Count == 1 && d[0].GetProperty("attempts").GetInt32() >= 3);
        await rig.WaitForDeliveriesAsync("destination=teachable", d => d.Count == 1 && d[0].GetProperty("attempts").GetInt32() >= 3);
        Assert.Empty(rig.Kit.TagsOf(Ada));
        Assert.Empty(rig.Teachable.ActiveCourses(Ada));
        // Enough consecutive failures open Kit's circuit, and GET /v1/destinations says so.
        await rig.WaitForDestinationAsync(KitId, d => d.GetProperty("state").GetString() == "open"
            && d.GetProperty("queue_depth").GetInt64() + d.GetProperty("in_flight").GetInt64() == 1);

        rig.Kit.FailNext(0);
        rig.Teachable.FailNext(0);

        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(PaidTag), "the Kit paid tag after recovery");
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Count == 1, "the enrollment after recovery");
        await rig.SettledAsync();
        foreach (var destination in new[] { KitId, TeachableId })
        {
            var task = Assert.Single(await rig.DeliveriesAsync("destination=" + destination));
            Assert.Equal("succeeded", task.GetProperty("state").GetString());
        }
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
    }

    [Fact]
    public async Task RateLimitStorm_RespectsRetryAfter_AndLosesNothing()
    {
        // One task at a time, so every call after a 429 is one the dispatcher chose to make.
        await using var rig = await RigAsync(o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(5); // the rig's short cap would also cap Retry-After
        });
        const int storm = 3;
        rig.Kit.RateLimitNext(storm, retryAfter: "1");
        var people = Enumerable.Range(1, 4).Select(i => $"buyer{i}@example.com").ToList();

        foreach (var (email, i) in people.Select((e, i) => (e, i)))
        {
            await rig.PostAsync(Paid($"ord_{i}", email, "2026-11-01T10:00:00Z"));
        }

        await rig.EventuallyAsync(() => people.All(p => rig.Kit.TagsOf(p).Contains(PaidTag)), "every buyer tagged at Kit", seconds: 20);
        var calls = rig.Kit.Api.Requests.Where(r => r.Request.Contains("/v4/", StringComparison.Ordinal)).Select(r => r.At).ToList();
        Assert.True(calls.Count > storm);
        for (var i = 0; i < storm; i++)
        {
            // Calls i = 0..storm-1 were answered 429 with Retry-After: 1; the next may come no sooner.
            var gap = calls[i + 1] - calls[i];
            Assert.True(gap >= TimeSpan.FromMilliseconds(980), $"call {i + 1} came {gap.TotalMilliseconds} ms after a 429 with Retry-After: 1");
        }
        await rig.SettledAsync();
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
        var kit = await rig.DeliveriesAsync("destination=kit");
        Assert.Equal(people.Count, kit.Count);
        Assert.All(kit, t => Assert.Equal(1, t.GetProperty("attempts").GetInt32())); // a 429 is not a failed attempt
    }

    [Fact]
    public async Task ConfiguredRateLimit_IsRespected_AcrossManyPeople()
    {
        const double rate = 4;
        await using var rig = await RigAsync(destination: d => d.Id == HookId ? d with { RateLimit = rate } : d);
        const int people = 12;

        for (var i = 0; i < people; i++) await rig.PostAsync(Paid($"ord_{i}", $"p{i}@example.com", "2026-11-01T10:00:00Z"));

        await rig.EventuallyAsync(() => rig.Hook.Processed.Count == people, "every webhook", seconds: 20);
        var calls = rig.Hook.Api.Requests.Select(r => r.At).Order().ToList();
        Assert.Equal(people, calls.Count);
        // Token bucket of capacity ceil(rate): n calls within t seconds need n <= capacity + rate·t.
        for (var i = 0; i < calls.Count; i++)
        {
            for (var j = i + 1; j < calls.Count; j++)
            {
                var needed = TimeSpan.FromSeconds((j - i + 1 - Math.Ceiling(rate)) / rate) - TimeSpan.FromMilliseconds(30);
                Assert.True(calls[j] - calls[i] >= needed, $"calls {i}..{j} came within {(calls[j] - calls[i]).TotalMilliseconds} ms at {rate}/s");
            }
        }
    }

    [Fact]
    public async Task TeachableRateLimitStorm_WaitsForRateLimitReset_AndLosesNothing()
    {
        await using var rig = await RigAsync(o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(5);
        });
        // Teachable's 429 names no Retry-After, only RateLimit-Reset (seconds).
        rig.Teachable.ResetSeconds = 1;
        const int storm = 2;
        rig.Teachable.RateLimitNext(storm);
        var people = Enumerable.Range(1, 3).Select(i => $"student{i}@example.com").ToList();

        foreach (var (email, i) in people.Select((e, i) => (e, i)))
        {
            await rig.PostAsync(Paid($"ord_{i}", email, "2026-11-01T10:00:00Z"));
        }

        await rig.EventuallyAsync(() => people.All(p => rig.Teachable.ActiveCourses(p).Count == 1), "every student enrolled", seconds: 20);
        var calls = rig.Teachable.Api.Requests.Select(r => r.At).ToList();
        for (var i = 0; i < storm; i++)
        {
            var gap = calls[i + 1] - calls[i];
            Assert.True(gap >= TimeSpan.FromMilliseconds(980), $"call {i + 1} came {gap.TotalMilliseconds} ms after a 429 with RateLimit-Reset: 1");
        }
        await rig.SettledAsync();
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
        Assert.Equal(people.Count, rig.Teachable.UserCount);
    }

    [Fact]
    public async Task Pause_HoldsDeliveries_Resume_DeliversThemInPerPersonOrder()
    {
        await using var rig = await RigAsync();
        Assert.Equal(HttpStatusCode.OK, (await rig.AdminPostAsync($"/v1/destinations/{HookId}/pause")).StatusCode);

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.PostAsync(Paid("ord_2", Ada, "2026-11-01T11:00:00Z", sku: "coaching"));
        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.PostAsync(Paid("ord_3", "bob@example.com", "2026-11-01T12:00:00Z"));

        await rig.WaitForDeliveriesAsync($"destination={HookId}&state=held", d => d.Count == 4);
        await rig.EventuallyAsync(() => rig.Kit.TagsOf("bob@example.com").Contains(PaidTag), "the unpaused Kit delivery");
        Assert.Empty(rig.Hook.Processed);
        Assert.Empty(rig.Hook.Api.Requests);

        Assert.Equal(HttpStatusCode.OK, (await rig.AdminPostAsync($"/v1/destinations/{HookId}/resume")).StatusCode);

        await rig.EventuallyAsync(() => rig.Hook.Processed.Count == 4, "the four held webhooks");
        var ada = rig.Hook.Processed.Select(p => JsonDocument.Parse(p.Body).RootElement.ToString())
            .Where(b => b.Contains(Ada, StringComparison.Ordinal)).ToList();
        Assert.Equal(3, ada.Count);
        Assert.Contains("ord_1", ada[0], StringComparison.Ordinal);
        Assert.Contains("order.paid", ada[0], StringComparison.Ordinal);
        Assert.Contains("ord_2", ada[1], StringComparison.Ordinal);
        Assert.Contains("order.refunded", ada[2], StringComparison.Ordinal);
        Assert.Empty(await rig.DeliveriesAsync($"destination={HookId}&state=held"));
    }

    [Fact]
    public async Task PausedStateDestination_GetsOnlyTheLatestState_OnResume()
    {
        await using var rig = await RigAsync();
        Assert.Equal(HttpStatusCode.OK, (await rig.AdminPostAsync($"/v1/destinations/{KitId}/pause")).StatusCode);

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Count == 1, "the unpaused Teachable enrollment");
        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Count == 0, "the unpaused Teachable unenrollment");
        await rig.WaitForDeliveriesAsync($"destination={KitId}&state=held", d => d.Count >= 1);
        Assert.Empty(rig.Kit.Api.Requests);

        Assert.Equal(HttpStatusCode.OK, (await rig.AdminPostAsync($"/v1/destinations/{KitId}/resume")).StatusCode);
        await rig.SettledAsync();
        await Task.Delay(300);

        // Whatever was sent, the end state is the refunded one and no paid tag is left behind.
        Assert.DoesNotContain(PaidTag, rig.Kit.TagsOf(Ada));
        Assert.DoesNotContain(CustomerTag, rig.Kit.TagsOf(Ada));
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
    }

    [Fact]
    public async Task PerPersonOrder_HoldsWhileTheFirstEventIsRetried()
    {
        await using var rig = await RigAsync();
        rig.Hook.RespondNext(3, 503, body: "upstream down");

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.PostAsync(Paid("ord_2", Ada, "2026-11-01T11:00:00Z", sku: "coaching"));
        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));

        await rig.EventuallyAsync(() => rig.Hook.Processed.Count == 3, "the three webhooks");
        var bodies = rig.Hook.Processed.Select(p => p.Body).ToList();
        Assert.Contains("ord_1", bodies[0], StringComparison.Ordinal);
        Assert.Contains("order.paid", bodies[0], StringComparison.Ordinal);
        Assert.Contains("ord_2", bodies[1], StringComparison.Ordinal);
        Assert.Contains("order.refunded", bodies[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PermanentWebhookError_GoesToTheDlq_ReplayAfterTheFix_DeliversOnce()
    {
        await using var rig = await RigAsync();
        rig.Hook.RespondNext(1, 400, body: "unknown field: order.items");

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        var dead = Assert.Single(await rig.WaitForDeliveriesAsync($"destination={HookId}&state=dead", d => d.Count == 1));
        var dlq = await ScenarioRig.JsonAsync(await rig.Server.Admin.GetAsync($"/v1/dlq?destination={HookId}"));
        var item = Assert.Single(dlq.GetProperty("items").EnumerateArray());
        Assert.Contains("400", item.GetProperty("dead_reason").GetString() + item.GetProperty("last_status").ToString(), StringComparison.Ordinal);
        Assert.Empty(rig.Hook.Processed);
        // The receiver is fixed: its scripted 400 is used up.
        var replay = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        await rig.EventuallyAsync(() => rig.Hook.Processed.Count == 1, "the replayed webhook");
        var again = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"destination\":\"{HookId}\",\"since\":\"1d\"}}"));
        Assert.Equal(0, again.GetProperty("replayed").GetInt32());
        await rig.SettledAsync();
        await Task.Delay(300);
        Assert.Single(rig.Hook.Processed);
        Assert.Equal(2, rig.Hook.Api.Requests.Count); // the 400 and the one delivery
        Assert.Equal("succeeded", Assert.Single(await rig.DeliveriesAsync($"destination={HookId}")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task MailchimpComplianceState_GoesToTheDlq_ReplayAfterTheFix_DeliversOnce()
    {
        await using var rig = await RigAsync();
        await rig.PostAsync(OptIn(Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => rig.Mailchimp.StatusOf(Ada) == "subscribed", "the Mailchimp subscribe");
        await rig.PostAsync(Unsubscribe(Ada, "2026-11-02T10:00:00Z"));
        await rig.EventuallyAsync(() => rig.Mailchimp.StatusOf(Ada) == "unsubscribed", "the Mailchimp unsubscribe");

        // Ada opts in again on a Junction form: Mailchimp refuses to re-subscribe an unsubscribed member through the API.
        await rig.PostAsync(OptIn(Ada, "2026-11-03T10:00:00Z"));

        var dead = Assert.Single(await rig.WaitForDeliveriesAsync($"destination={MailchimpId}&state=dead", d => d.Count == 1));
        Assert.Contains("Member In Compliance State", dead.GetProperty("dead_reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("unsubscribed", rig.Mailchimp.StatusOf(Ada));

        // The fix: Ada re-subscribes through Mailchimp's own hosted form.
        rig.Mailchimp.AddMember(Ada, "subscribed");
        var before = rig.Mailchimp.Api.Requests.Count;
        var replay = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        var id = dead.GetProperty("id").GetInt64();
        await rig.WaitForDeliveriesAsync($"destination={MailchimpId}&state=succeeded", d => d.Any(t => t.GetProperty("id").GetInt64() == id));
        var afterReplay = rig.Mailchimp.Api.Requests.Count;
        Assert.True(afterReplay > before);
        Assert.Equal(0, (await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"destination\":\"{MailchimpId}\",\"since\":\"1d\"}}")))
            .GetProperty("replayed").GetInt32());
        await rig.SettledAsync();
        await Task.Delay(300);
        Assert.Equal(afterReplay, rig.Mailchimp.Api.Requests.Count);
        Assert.Equal("subscribed", rig.Mailchimp.StatusOf(Ada));
        Assert.Equal(1, rig.Mailchimp.Api.Requests.Skip(before).Count(r => r.Request.StartsWith("PUT /3.0/lists/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ReplayingAnOldDeadState_DoesNotUndoANewerOne()
    {
        await using var rig = await RigAsync();
        rig.Kit.FailNext(1, 422); // the purchase sync is refused for good

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        var dead = Assert.Single(await rig.WaitForDeliveriesAsync($"destination={KitId}&state=dead", d => d.Count == 1));
        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.WaitForDeliveriesAsync($"destination={KitId}&state=succeeded", d => d.Count == 1);
        await rig.SettledAsync();

        var replay = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(0, replay.GetProperty("replayed").GetInt32());
        await rig.SettledAsync();
        await Task.Delay(300);

        Assert.DoesNotContain(PaidTag, rig.Kit.TagsOf(Ada));
        Assert.Empty(rig.KitTagAdds());
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
    }

    [Fact]
    public async Task Unsubscribe_ReachesASubscriberTheDestinationsAlreadyHadBeforeJunction()
    {
        await using var rig = await RigAsync();
        // Ada signed up through the creator's Kit and Mailchimp forms before Junction was installed.
        rig.Kit.AddSubscriber(Ada, "active");
        rig.Mailchimp.AddMember(Ada, "subscribed");
        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(PaidTag) && rig.Mailchimp.TagsOf(Ada).Contains(PaidTag), "the purchase sync");
        await rig.SettledAsync();

        await rig.PostAsync(Unsubscribe(Ada, "2026-11-03T10:00:00Z"));

        await rig.EventuallyAsync(() => rig.Kit.StateOf(Ada) == "cancelled", "the Kit unsubscribe");
        await rig.EventuallyAsync(() => rig.Mailchimp.StatusOf(Ada) == "unsubscribed", "the Mailchimp unsubscribe");
    }

    [Fact]
    public async Task Unsubscribe_PropagatesToEveryStateDestinationThatHoldsThePerson()
    {
        await using var rig = await RigAsync();
        await rig.PostAsync(OptIn(Ada, "2026-11-01T09:00:00Z"));
        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(PaidTag) && rig.Kit.StateOf(Ada) == "active"
            && rig.Mailchimp.TagsOf(Ada).Contains(PaidTag) && rig.Mailchimp.StatusOf(Ada) == "subscribed"
            && rig.Teachable.ActiveCourses(Ada).Count == 1, "the opt-in and purchase sync");
        await rig.SettledAsync();
        var teachableCalls = rig.Teachable.Api.Requests.Count;

        await rig.PostAsync(Unsubscribe(Ada, "2026-11-03T10:00:00Z"));

        await rig.EventuallyAsync(() => rig.Kit.StateOf(Ada) == "cancelled", "the Kit unsubscribe");
        await rig.EventuallyAsync(() => rig.Mailchimp.StatusOf(Ada) == "unsubscribed", "the Mailchimp unsubscribe");
        await rig.SettledAsync();
        // Unsubscribing from email does not take back what was bought.
        Assert.Contains(PaidTag, rig.Kit.TagsOf(Ada));
        Assert.Equal([CourseId], rig.Teachable.ActiveCourses(Ada));
        Assert.Equal(teachableCalls, rig.Teachable.Api.Requests.Count);
    }
}

public sealed class SqliteScenarioTests : ScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresScenarioTests : ScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
