using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Junction.Tests.Support;

namespace Junction.Tests.Erasure;

/// <summary>
/// `junction forget` as the real executable, beside a running `junction serve` on the same store:
/// it exits 0 with the person gone, the serving projector drops what it held in memory and goes on,
/// nothing the process logged names the address, and `junction rebuild` afterwards is identical.
/// </summary>
public abstract class ForgetCliTests
{
    private const string Admin = "cli-admin-token-0123456789";
    private const string Key = "cli-api-key-0123456789abcdef";
    private const string Gone = "cli.gone@example.com";
    private const string Stays = "cli.stays@example.com";

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

    private static string Paid(string order, string email, string at) =>
        $$$"""{"type":"order.paid","occurred_at":"{{{at}}}","subject":{"email":"{{{email}}}"{{{(email == Gone ? ",\"name\":\"Cleo Clifoot\"" : "")}}}},"order":{"order_id":"{{{order}}}","amount":4900,"currency":"usd","items":[{"sku":"course-pro","quantity":1,"amount":4900}]}}""";

    [Fact]
    public async Task Forget_BesideARunningServe_ExitsZeroWithThePersonGone_ServeGoesOn_AndRebuildIsIdentical()
    {
        var dir = TestStorage.NewTempDirectory();
        var storage = await StorageAsync();
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), Yaml);
        var env = new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = storage };

        using (var junction = Start(dir, env, out var client))
        {
            await junction.WaitHealthyAsync(client.BaseAddress!);
            await Post(client, $$$"""{"type":"optin","occurred_at":"2026-11-20T09:00:00Z","subject":{"email":"{{{Gone}}}"},"consent":[{"channel":"email","granted":true}]}""");
            await Post(client, Paid("ord_cli_gone", Gone, "2026-11-20T10:00:00Z"));
            await Post(client, Paid("ord_cli_stays", Stays, "2026-11-20T11:00:00Z"));
            var person = await WaitPerson(client, Gone, p => p.GetProperty("tags").GetArrayLength() == 2);
            await WaitPerson(client, Stays, p => p.GetProperty("tags").GetArrayLength() == 2);
            var id = person.GetProperty("id").GetString()!;

            var (code, output) = await JunctionProcess.RunAsync(dir, env, "forget", Gone);
            Assert.True(code == 0, output);
            Assert.Contains($"forgot person {id}", output, StringComparison.Ordinal);
            Assert.DoesNotContain(Gone, output, StringComparison.OrdinalIgnoreCase);

            Assert.Equal(HttpStatusCode.NotFound, await Status(client, $"/v1/people?email={Gone}"));
            var hits = await StoreScan.FindAsync(storage, Gone, "Clifoot");
            Assert.True(hits.Count == 0, "still in the store: " + string.Join(", ", hits));

            // The serving projector held the person in memory; it reloads and keeps projecting.
            await Post(client, """{"type":"order.refunded","occurred_at":"2026-11-22T11:00:00Z","subject":{"email":"cli.stays@example.com"},"order":{"order_id":"ord_cli_stays","refund_amount":4900,"fully_refunded":true,"currency":"usd"}}""");
            await WaitPerson(client, Stays, p => p.GetProperty("tags").GetArrayLength() == 0);
            Assert.Equal(HttpStatusCode.NotFound, await Status(client, $"/v1/people?email={Gone}"));

            var (againCode, again) = await JunctionProcess.RunAsync(dir, env, "forget", Gone.ToUpperInvariant());
            Assert.True(againCode == 0, again);
            Assert.Contains("already forgotten", again, StringComparison.Ordinal);
            var (missingCode, missing) = await JunctionProcess.RunAsync(dir, env, "forget", "nobody.here@example.com");
            Assert.Equal(1, missingCode);
            Assert.DoesNotContain("nobody.here@example.com", missing, StringComparison.Ordinal);
            Assert.DoesNotContain(junction.Output, l => l.Contains(Gone, StringComparison.OrdinalIgnoreCase));
        }

        var (rebuildCode, rebuild) = await JunctionProcess.RunAsync(dir, env, "rebuild");
        Assert.True(rebuildCode == 0, rebuild);
        Assert.Contains("identical: yes", rebuild, StringComparison.Ordinal);
        Assert.Contains("into 1 people", rebuild, StringComparison.Ordinal);
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

    private static async Task<HttpStatusCode> Status(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
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
}

public sealed class SqliteForgetCliTests : ForgetCliTests
{
    protected override Task<string> StorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresForgetCliTests : ForgetCliTests
{
    protected override Task<string> StorageAsync() => TestStorage.NewPostgresAsync();
}
