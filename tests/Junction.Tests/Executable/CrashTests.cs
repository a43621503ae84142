using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Junction.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Junction.Tests.Executable;

/// <summary>
/// R1.3: acknowledged means never lost. The real junction process takes concurrent webhooks, is
/// killed with SIGKILL mid-stream, restarted, and must hold every event it answered 200 for,
/// exactly once.
/// </summary>
public abstract class CrashTests
{
    private const string Secret = "whsec_crash_test_secret";
    private const string Token = "crash-test-admin-token";
    private static readonly TimeSpan AcknowledgeTimeout = TimeSpan.FromSeconds(120);

    protected abstract Task<string> NewStorageAsync();

    [Fact]
    public async Task KillDashNine_MidStream_LosesNoAcknowledgedEvent()
    {
        var dir = TestStorage.NewTempDirectory();
        var storage = await NewStorageAsync();
        var config = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(config, $"""
            storage: "{storage}"
            admin:
              tokens: ["{Token}"]
            sources:
              stripe-live:
                provider: stripe
                secrets: ["{Secret}"]
            """);
        var port = JunctionProcess.FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        string[] serve = ["serve", "--config", config, "--urls", baseAddress.ToString().TrimEnd('/')];

        var acknowledged = new ConcurrentDictionary<string, string>(); // provider event id -> junction id
        var sent = 0;
        using (var junction = JunctionProcess.Start(dir, null, serve))
        {
            await junction.WaitHealthyAsync(baseAddress);
            using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
            using var stop = new CancellationTokenSource();

            async Task Worker(int worker)
            {
                for (var i = 0; !stop.IsCancellationRequested && i < 5_000; i++)
                {
                    var eventId = $"evt_crash_{worker}_{i}";
                    Interlocked.Increment(ref sent);
                    try
                    {
                        using var response = await Post(client, eventId);
                        if (response.StatusCode != HttpStatusCode.OK) continue;
                        var ack = await response.Content.ReadFromJsonAsync<JsonElement>();
                        acknowledged[eventId] = ack.GetProperty("id").GetString()!;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                    {
                        return; // the process is gone
                    }
                }
            }

            var workers = Enumerable.Range(0, 16).Select(w => Task.Run(() => Worker(w))).ToArray();
            // Bounded: if junction stops acknowledging (wedged, or every request failing), fail with what it printed instead of hanging the run.
            var waiting = System.Diagnostics.Stopwatch.StartNew();
            while (acknowledged.Count < 400)
            {
                if (waiting.Elapsed > AcknowledgeTimeout || junction.HasExited || workers.All(w => w.IsCompleted))
                {
                    var exited = junction.HasExited;
                    if (!exited) junction.KillHard();
                    await stop.CancelAsync();
                    await Task.WhenAll(workers);
                    Assert.Fail($"junction acknowledged only {acknowledged.Count} of 400 events within {AcknowledgeTimeout.TotalSeconds:0} s " +
                        $"({sent} sent, exited by itself: {exited}):\n{string.Join('\n', junction.Output.TakeLast(40))}");
                }
                await Task.Delay(5);
            }
            junction.KillHard();
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }
        Assert.True(acknowledged.Count >= 400);
        Assert.True(sent > acknowledged.Count, "the kill must land mid-stream, with requests still in flight");

        using (var restarted = JunctionProcess.Start(dir, null, serve))
        {
            await restarted.WaitHealthyAsync(baseAddress);
            using var admin = new HttpClient { BaseAddress = baseAddress };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

            var stored = new List<(string Key, string Id)>();
            string? after = null;
            do
            {
                var page = await admin.GetFromJsonAsync<JsonElement>($"/v1/raw-events?source=stripe-live&limit=1000{(after is null ? "" : "&after=" + after)}");
                stored.AddRange(page.GetProperty("items").EnumerateArray()
                    .Select(i => (i.GetProperty("dedup_key").GetString()!, i.GetProperty("id").GetString()!)));
                after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
            } while (after is not null);

            var byKey = stored.GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Select(x => x.Id).ToList());
            foreach (var (eventId, junctionId) in acknowledged)
            {
                Assert.True(byKey.TryGetValue(eventId, out var ids), $"{eventId} was acknowledged but is not in the log");
                Assert.Equal([junctionId], ids);
            }

            // The provider retries what it did not see acknowledged; what was stored answers as a duplicate.
            var someAcked = acknowledged.First();
            using var retry = await Post(admin, someAcked.Key);
            var again = await retry.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(again.GetProperty("duplicate").GetBoolean());
            Assert.Equal(someAcked.Value, again.GetProperty("id").GetString());
        }

        if (storage.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            await using var connection = new SqliteConnection($"Data Source={storage["sqlite:".Length..]};Pooling=False");
            await connection.OpenAsync();
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", (string?)await cmd.ExecuteScalarAsync());
        }
    }

    private static async Task<HttpResponseMessage> Post(HttpClient client, string eventId)
    {
        var body = Payloads.StripePaymentIntentSucceeded(eventId);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/hooks/stripe-live") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Stripe-Signature",
            Sign.Stripe(Secret, body, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));
        return await client.SendAsync(request);
    }
}

public sealed class SqliteCrashTests : CrashTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresCrashTests : CrashTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
