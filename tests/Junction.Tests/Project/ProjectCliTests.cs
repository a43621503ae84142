using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Junction.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Junction.Tests.Project;

/// <summary>
/// The real executable: state survives a restart (the identity graph is restored from the store),
/// `junction trace` prints the timeline, and `junction rebuild` reproduces the incremental state
/// digest — and says so when it does not.
/// </summary>
public abstract class ProjectCliTests
{
    private const string Admin = "cli-admin-token-0123456789";
    private const string Key = "cli-api-key-0123456789abcdef";

    protected abstract Task<string> StorageAsync();

    private static string Yaml => """
        storage: "sqlite:./data/junction.db"
        admin:
          tokens: ["cli-admin-token-0123456789"]
        api_keys: ["cli-api-key-0123456789abcdef"]
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
          subscription_preferences: [email, forms, app]
        """;

    [Fact]
    public async Task StateSurvivesARestart_TraceShowsTheTimeline_AndRebuildReproducesTheDigest()
    {
        var dir = TestStorage.NewTempDirectory();
        var storage = await StorageAsync();
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), Yaml);
        var env = new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = storage };

        string personId;
        using (var junction = Start(dir, env, out var client))
        {
            await junction.WaitHealthyAsync(client.BaseAddress!);
            await Post(client, """{"type":"optin","occurred_at":"2026-11-20T09:00:00Z","subject":{"email":"fay@example.com","purchase_token":"jt_fay"},"consent":[{"channel":"email","granted":true}]}""");
            await Post(client, """{"type":"optin","occurred_at":"2026-11-20T09:30:00Z","subject":{"email":"fay.work@example.com"},"consent":[{"channel":"email","granted":true}]}""");
            await WaitPerson(client, "fay.work@example.com", _ => true);
            await Post(client, """{"type":"order.paid","occurred_at":"2026-11-20T11:00:00Z","subject":{"email":"fay.work@example.com","purchase_token":"jt_fay"},"order":{"order_id":"ord_fay","amount":4900,"currency":"usd","items":[{"sku":"course-pro","quantity":1,"amount":4900}]}}""");
            var person = await WaitPerson(client, "fay@example.com", p => p.GetProperty("tags").GetArrayLength() == 2);
            personId = person.GetProperty("id").GetString()!;
        }

        // After a restart the graph is restored from the store: a new event for a known email joins the same person.
        using (var junction = Start(dir, env, out var client))
        {
            await junction.WaitHealthyAsync(client.BaseAddress!);
            await Post(client, """{"type":"order.refunded","occurred_at":"2026-11-22T11:00:00Z","subject":{"email":"fay.work@example.com"},"order":{"order_id":"ord_fay","refund_amount":4900,"fully_refunded":true,"currency":"usd"}}""");
            var person = await WaitPerson(client, "fay.work@example.com", p => p.GetProperty("tags").GetArrayLength() == 0);
            Assert.Equal(personId, person.GetProperty("id").GetString());

            // A rebuild beside a serving projector would race it: refused while serve runs.
            var (busyCode, busy) = await JunctionProcess.RunAsync(dir, env, "rebuild");
            Assert.Equal(2, busyCode);
            Assert.Contains("another process is projecting this store", busy, StringComparison.Ordinal);
        }

        var (traceCode, trace) = await JunctionProcess.RunAsync(dir, env, "trace", "ord_fay");
        Assert.True(traceCode == 0, trace);
        Assert.Contains($"person {personId}", trace, StringComparison.Ordinal);
        Assert.Contains("order.paid (app)", trace, StringComparison.Ordinal);
        Assert.Contains("order.refunded (app)", trace, StringComparison.Ordinal);
        Assert.Contains("merged ", trace, StringComparison.Ordinal);
        Assert.Contains("entitlement course-pro: active → revoked", trace, StringComparison.Ordinal);
        Assert.Contains("trace=", trace, StringComparison.Ordinal);
        var (missingCode, _) = await JunctionProcess.RunAsync(dir, env, "trace", "nobody@example.com");
        Assert.Equal(1, missingCode);

        var (code, output) = await JunctionProcess.RunAsync(dir, env, "rebuild");
        Assert.True(code == 0, output);
        var before = Digest(output, "state digest before:");
        var after = Digest(output, "state digest after:");
        Assert.Equal(before, after);
        Assert.Contains("identical: yes", output, StringComparison.Ordinal);
        Assert.Contains("rebuilt 4 events into 1 people (1 merges)", output, StringComparison.Ordinal);

        // Corrupt the stored state: the rebuild must notice, replace it, and the next rebuild agrees again.
        await ExecuteAsync(storage, $"UPDATE people SET digest = 'tampered', state = '{{}}' WHERE person_id = '{personId}'");
        var (tamperedCode, tampered) = await JunctionProcess.RunAsync(dir, env, "rebuild");
        Assert.Equal(1, tamperedCode);
        Assert.Contains("identical: NO — 1 people differed", tampered, StringComparison.Ordinal);
        Assert.Equal(after, Digest(tampered, "state digest after:"));
        var (againCode, again) = await JunctionProcess.RunAsync(dir, env, "rebuild");
        Assert.True(againCode == 0, again);
        Assert.Equal(after, Digest(again, "state digest before:"));
    }

    [Fact]
    public async Task AFormsRefusedMerge_IsListedByIdentityConflicts_AndRebuildAppliesTheSameFormRules()
    {
        var dir = TestStorage.NewTempDirectory();
        var storage = await StorageAsync();
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), Yaml.Replace("""
            sources:
              app:
                provider: api
            tags: ["customer", "paid:course-pro"]
            """, """
            sources:
              app:
                provider: api
              landing:
                provider: form
                allowed_tags: [lead]
            tags: ["customer", "paid:course-pro", "lead"]
            """, StringComparison.Ordinal));
        var env = new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = storage };

        using (var junction = Start(dir, env, out var client))
        {
            await junction.WaitHealthyAsync(client.BaseAddress!);
            await Post(client, """{"type":"optin","occurred_at":"2026-11-20T09:00:00Z","subject":{"email":"bo@example.com","phone":"+12125550100"},"consent":[{"channel":"email","granted":true}]}""");
            await WaitPerson(client, "bo@example.com", _ => true);
            await PostForm(client, """{"email":"ada@example.com","consent_email":true,"tags":"lead,paid:course-pro"}""");
            await WaitPerson(client, "ada@example.com", _ => true);
            await PostForm(client, """{"email":"ada@example.com","phone":"+12125550100"}""");
            for (var i = 0; i < 300; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/identity/conflicts");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
                using var response = await client.SendAsync(request);
                if (JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("items").GetArrayLength() > 0) break;
                await Task.Delay(50);
            }
            var ada = await WaitPerson(client, "ada@example.com", _ => true);
            Assert.Equal(["lead"], ada.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        }

        var (code, conflicts) = await JunctionProcess.RunAsync(dir, env, "identity", "conflicts");
        Assert.True(code == 0, conflicts);
        Assert.Contains("an unauthenticated source may not merge people", conflicts, StringComparison.Ordinal);
        Assert.Contains("phone:+12125550100", conflicts, StringComparison.Ordinal);

        var (rebuildCode, rebuild) = await JunctionProcess.RunAsync(dir, env, "rebuild");
        Assert.True(rebuildCode == 0, rebuild);
        Assert.Contains("identical: yes", rebuild, StringComparison.Ordinal);
        Assert.Contains("rebuilt 3 events into 2 people (0 merges)", rebuild, StringComparison.Ordinal);
    }

    private static async Task PostForm(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/v1/forms/landing", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static string Digest(string output, string label)
    {
        var line = output.Split('\n').Single(l => l.StartsWith(label, StringComparison.Ordinal));
        var digest = line[label.Length..].Trim();
        Assert.Equal(64, digest.Length);
        return digest;
    }

    private static JunctionProcess Start(string dir, Dictionary<string, string?> env, out HttpClient client)
    {
        var port = JunctionProcess.FreePort();
        client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        return JunctionProcess.Start(dir, env, "serve", "--urls", $"http://127.0.0.1:{port}");
    }

    private static async Task Post(HttpClient client, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> WaitPerson(HttpClient client, string email, Func<JsonElement, bool> until)
    {
        var last = "";
        for (var i = 0; i < 300; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/people?email={email}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
            using var response = await client.SendAsync(request);
            last = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var person = JsonDocument.Parse(last).RootElement.Clone();
                if (until(person)) return person;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"{email} never reached the expected state: {last}");
        return default;
    }

    private static async Task ExecuteAsync(string storage, string sql)
    {
        if (storage.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            await using var c = new SqliteConnection($"Data Source={storage["sqlite:".Length..]}");
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        else
        {
            await using var c = new NpgsqlConnection(storage["postgres:".Length..]);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(sql, c);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
    }
}

public sealed class SqliteProjectCliTests : ProjectCliTests
{
    protected override Task<string> StorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresProjectCliTests : ProjectCliTests
{
    protected override Task<string> StorageAsync() => TestStorage.NewPostgresAsync();
}
