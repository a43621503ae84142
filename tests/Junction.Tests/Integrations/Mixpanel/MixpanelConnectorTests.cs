using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Integrations.Mixpanel;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.Mixpanel;

public sealed class MixpanelConnectorTests : IAsyncLifetime
{
    private FakeMixpanel _mixpanel = null!;
    private readonly FakeTimeProvider _time = new(Now);

    public async ValueTask InitializeAsync() => _mixpanel = await FakeMixpanel.StartAsync();

    public async ValueTask DisposeAsync() => await _mixpanel.DisposeAsync();

    private MixpanelConnector Connector(string secret = FakeMixpanel.Secret, bool people = false, string? token = FakeMixpanel.Token)
    {
        var options = new Dictionary<string, string> { ["project_id"] = FakeMixpanel.ProjectId };
        if (token is not null) options["token"] = token;
        if (people) options["people"] = "true";
        return new MixpanelConnector(DestConfig(MixpanelDestination.Type, _mixpanel.BaseUrl,
            new Dictionary<string, string> { ["username"] = FakeMixpanel.Username, ["secret"] = secret }, options), Http(), _time);
    }

    private static List<DeliveryWork> Batch(params (string Order, string Person)[] orders) =>
        [.. orders.Select((o, i) => EventWork(Paid(o.Order), o.Person, key: $"mixpanel-main:{Paid(o.Order).Id}") with { TaskId = i + 1 })];

    [Fact]
    public async Task Batch_IsOneGzippedImport_WithInsertIdsFromTheIdempotencyKeys_AndOneResultPerTask()
    {
        var work = Batch(("ord_1", "p_1"), ("ord_2", "p_2"), ("ord_3", "p_1"));

        var results = await Connector().DeliverBatchAsync(work, CancellationToken.None);

        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.Equal(DeliveryOutcome.Succeeded, r.Outcome));
        var request = Assert.Single(_mixpanel.Api.Requests);
        Assert.StartsWith("POST /import?strict=1&project_id=" + FakeMixpanel.ProjectId, request.Request, StringComparison.Ordinal);
        Assert.Equal("gzip", request.Headers["Content-Encoding"]);
        var events = _mixpanel.Events;
        Assert.Equal(["ord_1", "ord_2", "ord_3"], events.Select(e => e["properties"]!["order_id"]!.GetValue<string>()));
        Assert.All(events, e => Assert.Equal("Order Paid", e["event"]!.GetValue<string>()));
        Assert.Equal(["p_1", "p_2", "p_1"], events.Select(e => e["properties"]!["distinct_id"]!.GetValue<string>()));
        Assert.Equal(Paid("ord_1").OccurredAt.ToUnixTimeMilliseconds(), events[0]["properties"]!["time"]!.GetValue<long>());
        Assert.Equal(49m, events[0]["properties"]!["amount"]!.GetValue<decimal>());
        Assert.Equal(FakeMixpanel.Token, events[0]["properties"]!["token"]!.GetValue<string>());
        var insertIds = events.Select(e => e["properties"]!["$insert_id"]!.GetValue<string>()).ToList();
        Assert.Equal(work.Select(w => MixpanelConnector.InsertId(w.IdempotencyKey)), insertIds);
        Assert.Equal(3, insertIds.Distinct(StringComparer.Ordinal).Count());
        // Each task's DLQ record shows its own event, not the whole batch, and never the secret.
        Assert.Contains("ord_2", Assert.Single(results[1].Requests), StringComparison.Ordinal);
        Assert.DoesNotContain("ord_1", results[1].Requests[0], StringComparison.Ordinal);
        Assert.DoesNotContain(FakeMixpanel.Secret, string.Join("\n", results.SelectMany(r => r.Requests)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResentBatch_AfterALostAnswer_IsNotCountedTwice()
    {
        var work = Batch(("ord_1", "p_1"), ("ord_2", "p_2"));

        await Connector().DeliverBatchAsync(work, CancellationToken.None);
        var again = await Connector().DeliverBatchAsync(work, CancellationToken.None);

        Assert.All(again, r => Assert.Equal(DeliveryOutcome.Succeeded, r.Outcome));
        Assert.Equal(2, _mixpanel.Api.Requests.Count);
        Assert.Equal(2, _mixpanel.Events.Count);
    }

    [Theory]
    [InlineData("msg_ce_0123456789abcdef")]
    [InlineData("mixpanel-main:ce_0123456789abcdef0123456789abcdef")]
    public void InsertId_FitsMixpanelsRule_AndIsStable(string key)
    {
        var id = MixpanelConnector.InsertId(key);

        Assert.InRange(id.Length, 1, 36);
        Assert.All(id, ch => Assert.True(char.IsAsciiLetterOrDigit(ch) || ch == '-', $"'{ch}' in {id}"));
        Assert.Equal(id, MixpanelConnector.InsertId(key));
        Assert.NotEqual(id, MixpanelConnector.InsertId(key + "x"));
    }

    [Fact]
    public async Task StrictValidation_FailsOnlyTheRejectedEvent_TheOthersSucceed()
    {
        // "anonymous" is one of the placeholder distinct_ids Mixpanel refuses.
        var work = Batch(("ord_1", "p_1"), ("ord_2", "anonymous"), ("ord_3", "p_3"));

        var results = await Connector().DeliverBatchAsync(work, CancellationToken.None);

        Assert.Equal([DeliveryOutcome.Succeeded, DeliveryOutcome.Permanent, DeliveryOutcome.Succeeded], results.Select(r => r.Outcome));
        Assert.Contains("properties.distinct_id", results[1].Error, StringComparison.Ordinal);
        Assert.Equal(400, results[1].Status);
        Assert.Equal(["ord_1", "ord_3"], _mixpanel.Events.Select(e => e["properties"]!["order_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task RateLimited_WithoutRetryAfter_WaitsMixpanelsDocumentedTwoSeconds_ForEveryTask()
    {
        _mixpanel.RateLimitNext(1);

        var results = await Connector().DeliverBatchAsync(Batch(("ord_1", "p_1"), ("ord_2", "p_2")), CancellationToken.None);

        Assert.All(results, r =>
        {
            Assert.Equal(DeliveryOutcome.RateLimited, r.Outcome);
            Assert.Equal(TimeSpan.FromSeconds(2), r.RetryAfter);
        });
        Assert.Empty(_mixpanel.Events);
    }

    [Fact]
    public async Task RateLimited_WithRetryAfter_WaitsThatLong()
    {
        _mixpanel.RateLimitNext(1, retryAfter: "7");

        var result = await Connector().DeliverAsync(Batch(("ord_1", "p_1"))[0], CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
    }

    [Fact]
    public async Task WrongSecret_IsPermanent_NamesTheCredential_AndDoesNotLeakIt()
    {
        const string wrong = "not-the-secret-987";
        var result = await Connector(secret: wrong).DeliverAsync(Batch(("ord_1", "p_1"))[0], CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(401, result.Status);
        Assert.Contains("credentials.username / secret", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, result.Error + string.Join("\n", result.Requests) + result.Response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerError_IsTransient_ForEveryTaskOfTheBatch()
    {
        _mixpanel.FailNext(1, 503);

        var results = await Connector().DeliverBatchAsync(Batch(("ord_1", "p_1"), ("ord_2", "p_2")), CancellationToken.None);

        Assert.All(results, r => Assert.Equal(DeliveryOutcome.Transient, r.Outcome));
    }

    [Fact]
    public async Task TestModeEvent_IsNotSent_ButSucceeds()
    {
        var test = EventWork(Paid("ord_t") with { TestMode = true }, "p_1");

        var result = await Connector().DeliverAsync(test, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(_mixpanel.Api.Requests);
    }

    [Fact]
    public async Task People_SetsEmailAndName_OncePerPersonOfTheBatch()
    {
        var work = Batch(("ord_1", "p_1"), ("ord_2", "p_1"), ("ord_3", "p_2"));

        var results = await Connector(people: true).DeliverBatchAsync(work, CancellationToken.None);

        Assert.All(results, r => Assert.Equal(DeliveryOutcome.Succeeded, r.Outcome));
        Assert.Equal(1, _mixpanel.Api.Count("POST /engage"));
        var engage = JsonNode.Parse(_mixpanel.Api.Requests.Single(r => r.Request.StartsWith("POST /engage", StringComparison.Ordinal)).Body)!.AsArray();
        Assert.Equal(2, engage.Count);
        Assert.Equal("ada@example.com", _mixpanel.Profile("p_1")!["$email"]!.GetValue<string>());
        Assert.Equal("Ada Lovelace", _mixpanel.Profile("p_2")!["$name"]!.GetValue<string>());
    }

    [Fact]
    public async Task People_EngageRefusal_In200Body_FailsTheTasks_WhileTheEventsAreIn()
    {
        // The Engage API answers 200 with {"status":0,"error":…} to a wrong token (profile-set docs).
        var results = await Connector(people: true, token: "wrong-token").DeliverBatchAsync(Batch(("ord_1", "p_1")), CancellationToken.None);

        var result = Assert.Single(results);
        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.StartsWith("mixpanel engage: token, missing or empty", result.Error, StringComparison.Ordinal);
        Assert.Single(_mixpanel.Events); // a replay re-imports under the same $insert_id: no double count
        Assert.Null(_mixpanel.Profile("p_1"));
    }

    [Fact]
    public async Task People_WithoutAProjectToken_IsAConfigErrorNamingTheKey()
    {
        var result = await Connector(people: true, token: null).DeliverAsync(Batch(("ord_1", "p_1"))[0], CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("destinations.mixpanel-main.token", result.Error, StringComparison.Ordinal);
        Assert.Empty(_mixpanel.Api.Requests);
    }

    [Fact]
    public void MaxBatch_IsTheImportApisLimit() => Assert.Equal(2000, Connector().MaxBatch);
}
