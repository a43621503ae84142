using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Dispatch;
using Junction.Tests.Dispatch.Engine;
using Junction.Tests.Support;

namespace Junction.Tests.Admin;

/// <summary>The operations log: who did which state-changing call, by the token's name, on both engines.</summary>
public abstract class OperationsLogTests
{
    protected abstract Task<string> NewStorageAsync();

    private async Task<(JunctionServer Server, HttpClient Viewer, HttpClient Operator)> StartAsync()
    {
        var kit = new ScriptedConnector(Drafts.Destination("kit-main", DestinationTypes.Kit));
        var server = await JunctionServer.StartAsync(AdminRoleWalkTests.RolesConfig(await NewStorageAsync()), services: s => s.AddDestination(kit));
        return (server, Client(server, AdminRoleWalkTests.ViewerToken), Client(server, AdminRoleWalkTests.OperatorToken));
    }

    private static HttpClient Client(JunctionServer server, string token)
    {
        var client = new HttpClient { BaseAddress = server.Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Pause_WithAnOperatorToken_IsLoggedUnderTheOperatorsName_NeverTheTokenOrARawEmail()
    {
        var (server, viewer, op) = await StartAsync();
        await using (server)
        using (viewer)
        using (op)
        {
            var before = TimeProvider.System.GetUtcNow().AddSeconds(-5);
            using (var pause = await op.PostAsync("/v1/destinations/kit-main/pause", Json("{\"reason\":\"list migration asked by jane@example.com\"}")))
            {
                Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            }
            using (var resume = await op.PostAsync("/v1/destinations/kit-main/resume", null))
            {
                Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
            }

            using var response = await viewer.GetAsync("/v1/operations");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(AdminRoleWalkTests.OperatorToken, text, StringComparison.Ordinal);
            Assert.DoesNotContain("jane@example.com", text, StringComparison.Ordinal);
            var items = JsonDocument.Parse(text).RootElement.GetProperty("items").EnumerateArray().ToList();

            Assert.Equal(["destinations.resume", "destinations.pause"], items.Select(i => i.GetProperty("action").GetString()));
            var paused = items[1];
            Assert.Equal("ops-anna", paused.GetProperty("actor").GetString());
            Assert.Equal("operator", paused.GetProperty("role").GetString());
            Assert.Equal("kit-main", paused.GetProperty("target").GetString());
            Assert.StartsWith("list migration asked by j***@e***.com", paused.GetProperty("detail").GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.True(paused.GetProperty("detail").GetProperty("changed").GetBoolean());
            var at = DateTimeOffset.Parse(paused.GetProperty("at").GetString()!, CultureInfo.InvariantCulture);
            Assert.InRange(at, before, TimeProvider.System.GetUtcNow().AddSeconds(5));
            Assert.True(items[0].GetProperty("id").GetInt64() > paused.GetProperty("id").GetInt64());
            Assert.Equal("ops-anna", items[0].GetProperty("actor").GetString());
        }
    }

    [Fact]
    public async Task Operations_PageNewestFirst_WithBefore()
    {
        var (server, viewer, op) = await StartAsync();
        await using (server)
        using (viewer)
        using (op)
        {
            foreach (var reason in new[] { "one", "two", "three" })
            {
                using var pause = await op.PostAsync("/v1/destinations/kit-main/pause", Json($"{{\"reason\":\"{reason}\"}}"));
                Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            }

            var first = await viewer.GetFromJsonAsync<JsonElement>("/v1/operations?limit=2");
            Assert.Equal(["three", "two"], first.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("detail").GetProperty("reason").GetString()));
            var next = first.GetProperty("next").GetString();
            Assert.NotNull(next);
            var second = await viewer.GetFromJsonAsync<JsonElement>($"/v1/operations?limit=2&before={next}");
            Assert.Equal(["one"], second.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("detail").GetProperty("reason").GetString()));
            Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);

            using var bad = await viewer.GetAsync("/v1/operations?limit=0");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("limit:", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OperationalWrites_EachLeaveAnEntry_ReadsLeaveNone()
    {
        var (server, viewer, op) = await StartAsync();
        await using (server)
        using (viewer)
        using (op)
        {
            (await viewer.GetAsync("/v1/destinations")).Dispose();
            (await viewer.GetAsync("/v1/dlq")).Dispose();
            using (var retry = await op.PostAsync("/v1/quarantine/retry?source=stripe-main", null)) Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
            using (var poison = await op.PostAsync("/v1/project/poison/retry", null)) Assert.Equal(HttpStatusCode.OK, poison.StatusCode);
            using (var replay = await op.PostAsync("/v1/dlq/replay", Json("{\"destination\":\"kit-main\"}"))) Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            string auditId;
            using (var audit = await op.PostAsync("/v1/audits", Json("{\"since\":\"7d\",\"heal\":false}")))
            {
                Assert.Equal(HttpStatusCode.Accepted, audit.StatusCode);
                auditId = (await audit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            }
            // A call that fails changes nothing and is not logged.
            using (var unknown = await op.PostAsync("/v1/destinations/nope/pause", null)) Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

            var items = (await viewer.GetFromJsonAsync<JsonElement>("/v1/operations")).GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(["audits.run", "dlq.replay", "project.poison.retry", "quarantine.retry"], items.Select(i => i.GetProperty("action").GetString()));
            Assert.Equal([auditId, "kit-main", "all", "stripe-main"], items.Select(i => i.GetProperty("target").GetString()));
            Assert.Equal("7d", items[0].GetProperty("detail").GetProperty("since").GetString());
            Assert.False(items[0].GetProperty("detail").GetProperty("heal").GetBoolean());
            Assert.All(items, i => Assert.Equal("ops-anna", i.GetProperty("actor").GetString()));
        }
    }
}

public sealed class SqliteOperationsLogTests : OperationsLogTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresOperationsLogTests : OperationsLogTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
