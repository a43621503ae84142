using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Junction.Tests.Support;
using Npgsql;

namespace Junction.Tests.Executable;

/// <summary>
/// R8.2 split brain: two real `junction serve` processes on one PostgreSQL database. The leader's
/// lock connections are killed server-side (the session advisory locks go with them) while the
/// process keeps running, unaware. The follower takes the roles; the old leader's next commit is
/// refused by the lease epoch and it steps down, so exactly one projector commits: no event is
/// folded twice, and a rebuild reproduces the state digest.
/// </summary>
public sealed class ProjectLeadershipFailoverTests
{
    private const string Admin = "failover-admin-token-0123456789";
    private const string Key = "failover-api-key-0123456789abcdef";

    private static string Yaml(string storage) => $$"""
        storage: "{{storage}}"
        admin:
          tokens: ["{{Admin}}"]
        api_keys: ["{{Key}}"]
        sources:
          app:
            provider: api
        tags: ["customer", "paid:course-pro"]
        products:
          course-pro:
            match:
              - {source: app, sku: course-pro}
            tags_while_active: ["paid:course-pro", "customer"]
        ownership:
          money: [payments, app]
        """;

    [Fact]
    public async Task LeaderLosesItsLockConnection_FollowerTakesOver_FenceRefusesTheStaleLeader_AndRebuildIsIdentical()
    {
        var storage = await TestStorage.NewPostgresAsync();
        var connectionString = storage["postgres:".Length..];
        var dir = TestStorage.NewTempDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), Yaml(storage));

        using var a = Start(dir, out var clientA);
        await a.WaitHealthyAsync(clientA.BaseAddress!);
        for (var i = 0; i < 3; i++) await Post(clientA, Paid($"before{i}@example.com", $"ord_before_{i}"));
        await WaitProjectedAsync(connectionString, 3);

        using var b = Start(dir, out var clientB);
        await b.WaitHealthyAsync(clientB.BaseAddress!);
        Assert.Contains(a.Output, l => l.Contains("Leading project", StringComparison.Ordinal));

        // A's lock connections die (as on a network blip); A itself keeps running and does not know.
        await using (var pg = new NpgsqlConnection(connectionString))
        {
            await pg.OpenAsync();
            await using var kill = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                + "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database() AND l.pid <> pg_backend_pid()", pg);
            Assert.True((long)(await kill.ExecuteScalarAsync())! >= 2, "both of A's roles held a session advisory lock");
        }
        await WaitUntilAsync(() => b.Output.Any(l => l.Contains("Leading project", StringComparison.Ordinal))
            && b.Output.Any(l => l.Contains("Leading normalize", StringComparison.Ordinal)), "B takes over both roles", b);

        // Traffic through both nodes. A still believes it leads and tries to commit; its fence refuses.
        for (var i = 0; i < 6; i++) await Post(i % 2 == 0 ? clientA : clientB, Paid($"after{i}@example.com", $"ord_after_{i}"));
        await Post(clientA, Refund("after0@example.com", "ord_after_0"));
        await WaitProjectedAsync(connectionString, 10);
        await WaitUntilAsync(() => a.Output.Any(l => l.Contains("Lost the lead of project", StringComparison.Ordinal)), "A is fenced off and steps down", a);
        Assert.False(a.HasExited, "losing the lead must not stop the host");

        // Exactly one projector committed each event: no event caused two state changes, nobody twice.
        await using (var pg = new NpgsqlConnection(connectionString))
        {
            await pg.OpenAsync();
            await using var doubled = new NpgsqlCommand(
                "SELECT count(*) FROM (SELECT cause_id FROM state_changes WHERE cause = 'event' GROUP BY cause_id HAVING count(*) > 1) x", pg);
            Assert.Equal(0L, (long)(await doubled.ExecuteScalarAsync())!);
            await using var people = new NpgsqlCommand(
                "SELECT count(*) FROM (SELECT primary_email FROM people WHERE merged_into IS NULL GROUP BY primary_email HAVING count(*) > 1) x", pg);
            Assert.Equal(0L, (long)(await people.ExecuteScalarAsync())!);
            await using var cursor = new NpgsqlCommand("SELECT (SELECT position FROM cursors WHERE name = 'project') = (SELECT max(seq) FROM canonical_events)", pg);
            Assert.True((bool)(await cursor.ExecuteScalarAsync())!);
        }

        a.KillHard();
        b.KillHard();
        var (code, output) = await JunctionProcess.RunAsync(dir, null, "rebuild");
        Assert.True(code == 0, output);
        Assert.Contains("identical: yes", output, StringComparison.Ordinal);
    }

    private static string Paid(string email, string orderId) =>
        $$$"""{"type":"order.paid","occurred_at":"2026-11-20T11:00:00Z","subject":{"email":"{{{email}}}"},"order":{"order_id":"{{{orderId}}}","amount":4900,"currency":"usd","items":[{"sku":"course-pro","quantity":1,"amount":4900}]}}""";

    private static string Refund(string email, string orderId) =>
        $$$"""{"type":"order.refunded","occurred_at":"2026-11-22T11:00:00Z","subject":{"email":"{{{email}}}"},"order":{"order_id":"{{{orderId}}}","refund_amount":4900,"fully_refunded":true,"currency":"usd"}}""";

    private static JunctionProcess Start(string dir, out HttpClient client)
    {
        var port = JunctionProcess.FreePort();
        client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        return JunctionProcess.Start(dir, null, "serve", "--urls", $"http://127.0.0.1:{port}");
    }

    private static async Task Post(HttpClient client, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Waits until the project cursor has passed this many canonical events, all of them.</summary>
    private static async Task WaitProjectedAsync(string connectionString, int events)
    {
        await using var pg = new NpgsqlConnection(connectionString);
        await pg.OpenAsync();
        for (var i = 0; i < 600; i++)
        {
            await using var cmd = new NpgsqlCommand(
                "SELECT (SELECT count(*) FROM canonical_events), COALESCE((SELECT position FROM cursors WHERE name = 'project'), 0), COALESCE((SELECT max(seq) FROM canonical_events), -1)", pg);
            await using var r = await cmd.ExecuteReaderAsync();
            await r.ReadAsync();
            if (r.GetInt64(0) >= events && r.GetInt64(1) == r.GetInt64(2)) return;
            await Task.Delay(50);
        }
        Assert.Fail($"{events} canonical events were not all projected in 30 s");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, JunctionProcess process)
    {
        for (var i = 0; i < 600; i++)
        {
            if (condition()) return;
            await Task.Delay(50);
        }
        Assert.Fail($"timed out waiting: {what}\n{string.Join('\n', process.Output.TakeLast(40))}");
    }
}
