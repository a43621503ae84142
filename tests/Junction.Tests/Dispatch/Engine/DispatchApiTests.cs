using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Dispatch;
using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Junction.Tests.Dispatch.Engine;

/// <summary>The delivery admin API over a real socket, with the dispatcher running in the background.</summary>
// Exact /metrics values: scraped alone (every live server's meters show in every scrape).
[Collection(Junction.Tests.Telemetry.ScrapedAlone.Name)]
public sealed class DispatchApiTests : IAsyncLifetime
{
    private readonly ScriptedConnector _hook = new(Drafts.Destination("hook", DestinationTypes.Webhook));
    private readonly ScriptedConnector _kit = new(Drafts.Destination("kit", DestinationTypes.Kit));
    private JunctionServer _server = null!;

    private IJunctionStore Store => _server.App.Services.GetRequiredService<IJunctionStore>();
    private Dispatcher Dispatcher => _server.App.Services.GetRequiredService<Dispatcher>();

    public async ValueTask InitializeAsync()
    {
        _server = await JunctionServer.StartAsync(JunctionServer.Config(TestStorage.NewSqlite()), services: s =>
        {
            s.AddDestination(_hook);
            s.AddDestination(_kit);
            s.AddSingleton(new DispatchOptions { PollInterval = TimeSpan.FromMilliseconds(50), BreakerThreshold = 1000, WorkerId = "api-test" });
        });
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task EnqueueAsync(params DeliveryDraft[] drafts)
    {
        await Store.EnqueueDeliveriesAsync(drafts, CancellationToken.None);
        Dispatcher.Wake();
    }

    private async Task<JsonElement> WaitForAsync(string query, Func<JsonElement, bool> done)
    {
        JsonElement last = default;
        for (var i = 0; i < 200; i++)
        {
            last = await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/deliveries?" + query);
            if (done(last)) return last;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{query}: {last}");
    }

    private static int Count(JsonElement page) => page.GetProperty("items").GetArrayLength();

    private Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        _server.Admin.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.StartsWith(field + ":", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoints_RequireTheAdminToken()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Client.GetAsync("/v1/destinations")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Client.GetAsync("/v1/dlq")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Client.PostAsync("/v1/destinations/hook/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await _server.Client.PostAsync("/v1/dlq/replay", new StringContent("{\"ids\":[1]}", Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task Destinations_ShowHealthQueueAndLastError()
    {
        _kit.Always(ScriptedConnector.Transient(503, "Service Unavailable"));
        await EnqueueAsync(Drafts.Event("hook", "p1", "e1"), Drafts.State("kit", "p1", "buyer"));
        await WaitForAsync("destination=hook&state=succeeded", p => Count(p) == 1);
        await WaitForAsync("destination=kit&state=pending", p => Count(p) == 1 && p.GetProperty("items")[0].GetProperty("attempts").GetInt32() >= 1);

        var list = await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/destinations");
        var byId = list.GetProperty("items").EnumerateArray().ToDictionary(d => d.GetProperty("id").GetString()!);
        Assert.Equal(["hook", "kit"], byId.Keys.Order(StringComparer.Ordinal));
        var hook = byId["hook"];
        Assert.Equal(("webhook", "healthy", 0, 0), (hook.GetProperty("type").GetString(), hook.GetProperty("state").GetString(),
            hook.GetProperty("queue_depth").GetInt32(), hook.GetProperty("in_flight").GetInt32()));
        Assert.Equal(1.0, hook.GetProperty("success_rate_5m").GetDouble());
        Assert.True(hook.GetProperty("send_rate").GetDouble() > 0);
        var kit = byId["kit"];
        Assert.Equal("degraded", kit.GetProperty("state").GetString());
        Assert.Equal(1, kit.GetProperty("queue_depth").GetInt32() + kit.GetProperty("in_flight").GetInt32());
        Assert.Equal(0.0, kit.GetProperty("success_rate_5m").GetDouble());
        Assert.Equal("Service Unavailable", kit.GetProperty("last_error").GetString());
    }

    [Fact]
    public async Task Deliveries_FilterByDestinationStateAndPerson_AndPageWithACursor()
    {
        await EnqueueAsync(Drafts.Event("hook", "p1", "e1"), Drafts.Event("hook", "p2", "e2"), Drafts.Event("hook", "p2", "e3"));
        await WaitForAsync("destination=hook&state=succeeded", p => Count(p) == 3);

        var p2 = await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/deliveries?destination=hook&person=p2");
        Assert.Equal(["e2", "e3"], p2.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("event_id").GetString()));
        var first = await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/deliveries?limit=2");
        Assert.Equal(2, Count(first));
        var next = first.GetProperty("next").GetString();
        var second = await _server.Admin.GetFromJsonAsync<JsonElement>($"/v1/deliveries?limit=2&after={next}");
        Assert.Equal("e3", second.GetProperty("items")[0].GetProperty("event_id").GetString());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        var item = second.GetProperty("items")[0];
        Assert.Equal(("succeeded", 1, "trace-e3"), (item.GetProperty("state").GetString(), item.GetProperty("attempts").GetInt32(),
            item.GetProperty("trace_id").GetString()));

        await AssertProblemAsync(await _server.Admin.GetAsync("/v1/deliveries?state=failed"), HttpStatusCode.BadRequest, "state");
        await AssertProblemAsync(await _server.Admin.GetAsync("/v1/deliveries?destination=nope"), HttpStatusCode.NotFound, "destination");
        await AssertProblemAsync(await _server.Admin.GetAsync("/v1/deliveries?after=abc"), HttpStatusCode.BadRequest, "after");
        await AssertProblemAsync(await _server.Admin.GetAsync("/v1/deliveries?limit=0"), HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task Dlq_KeepsTheFailure_AndReplay_DeliversOnce_ThenDoesNothing()
    {
        _hook.Then(ScriptedConnector.Permanent(422, "invalid payload"));
        await EnqueueAsync(Drafts.Event("hook", "p1", "evt_dead"));
        await WaitForAsync("state=dead", p => Count(p) == 1);

        var dlq = await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/dlq?destination=hook");
        var item = Assert.Single(dlq.GetProperty("items").EnumerateArray());
        Assert.Equal("invalid payload", item.GetProperty("dead_reason").GetString());
        Assert.Equal("trace-evt_dead", item.GetProperty("trace_id").GetString());
        Assert.Contains("PUT /3.0/lists", item.GetProperty("request").GetString(), StringComparison.Ordinal);
        var attempt = Assert.Single(item.GetProperty("attempt_log").EnumerateArray());
        Assert.Equal(("permanent", 422), (attempt.GetProperty("outcome").GetString(), attempt.GetProperty("status").GetInt32()));
        var id = item.GetProperty("id").GetInt64();

        var replay = await PostJsonAsync("/v1/dlq/replay", $"{{\"ids\":[{id}]}}");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(1, (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayed").GetInt32());
        await WaitForAsync("state=succeeded", p => Count(p) == 1);
        var again = await PostJsonAsync("/v1/dlq/replay", "{\"destination\":\"hook\",\"since\":\"1d\",\"person\":\"p1\"}");
        Assert.Equal(0, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayed").GetInt32());
        Assert.Equal(0, Count(await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/dlq")));
        Assert.Equal(2, _hook.Calls.Count);
    }

    [Theory]
    [InlineData("{\"ids\":\"7\"}", "ids")]
    [InlineData("{\"ids\":[]}", "ids")]
    [InlineData("{\"ids\":[-1]}", "ids")]
    [InlineData("{\"ids\":[1],\"destination\":\"hook\"}", "ids")]
    [InlineData("{\"since\":\"99999999999999999d\"}", "since")]
    [InlineData("{\"since\":\"yesterday\"}", "since")]
    [InlineData("{\"person\":\"\"}", "person")]
    [InlineData("{\"colour\":\"red\"}", "colour")]
    [InlineData("{}", "body")]
    [InlineData("[1,2]", "body")]
    [InlineData("{\"ids\":[1", "body")]
    public async Task Replay_RefusesABadBody_NamingTheField(string body, string field) =>
        await AssertProblemAsync(await PostJsonAsync("/v1/dlq/replay", body), HttpStatusCode.BadRequest, field);

    [Fact]
    public async Task Replay_OfAnUnknownDestination_IsNotFound() =>
        await AssertProblemAsync(await PostJsonAsync("/v1/dlq/replay", "{\"destination\":\"nope\"}"), HttpStatusCode.NotFound, "destination");

    [Fact]
    public async Task Pause_HoldsWorkVisibly_AndResume_ReleasesItInOrder()
    {
        var paused = await PostJsonAsync("/v1/destinations/hook/pause", "{\"reason\":\"maintenance\"}");
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        await EnqueueAsync(Drafts.Event("hook", "p1", "e1"), Drafts.Event("hook", "p1", "e2"));
        await Task.Delay(200);
        Assert.Equal(2, Count(await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/deliveries?destination=hook&state=held")));
        Assert.Empty(_hook.Calls);
        var status = await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/destinations");
        var hook = status.GetProperty("items").EnumerateArray().Single(d => d.GetProperty("id").GetString() == "hook");
        Assert.Equal(("paused", 2), (hook.GetProperty("state").GetString(), hook.GetProperty("queue_depth").GetInt32()));

        var resumed = await _server.Admin.PostAsync("/v1/destinations/hook/resume", null);
        Assert.Equal(2, (await resumed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("released").GetInt32());
        await WaitForAsync("destination=hook&state=succeeded", p => Count(p) == 2);
        Assert.Equal(["e1", "e2"], _hook.Calls.Select(c => c.Event!.Id));

        await AssertProblemAsync(await _server.Admin.PostAsync("/v1/destinations/nope/pause", null), HttpStatusCode.NotFound, "id");
        await AssertProblemAsync(await PostJsonAsync("/v1/destinations/hook/pause", "{\"reason\":5}"), HttpStatusCode.BadRequest, "reason");
    }

    [Fact]
    public async Task Metrics_CountDeliveriesPerDestination()
    {
        _kit.Then(ScriptedConnector.Permanent());
        await EnqueueAsync(Drafts.Event("hook", "p1", "e1"), Drafts.State("kit", "p1", "a"));
        await WaitForAsync("state=succeeded", p => Count(p) == 1);
        await WaitForAsync("state=dead", p => Count(p) == 1);
        string metrics = "";
        for (var i = 0; i < 50 && !metrics.Contains("junction_dispatch_dead_total", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
            metrics = await _server.Client.GetStringAsync("/metrics");
        }
        Assert.Matches("junction_dispatch_succeeded_total\\{[^}]*destination=\"hook\"[^}]*\\} 1", metrics);
        Assert.Matches("junction_dispatch_dead_total\\{[^}]*destination=\"kit\"[^}]*\\} 1", metrics);
        Assert.Matches("junction_dispatch_failed_total\\{[^}]*destination=\"kit\"[^}]*outcome=\"permanent\"[^}]*\\} 1", metrics);
        Assert.Contains("junction_dispatch_attempt_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("junction_dispatch_queue_depth", metrics, StringComparison.Ordinal);
        Assert.Contains("junction_dispatch_circuit_state", metrics, StringComparison.Ordinal);
    }
}
