using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Dispatch.Engine;

/// <summary>The CLI verbs through the real executable, on a SQLite file the test also opens.</summary>
public sealed class DispatchCliTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<(string Dir, string Config, string Db)> SetupAsync()
    {
        var dir = TestStorage.NewTempDirectory();
        var db = Path.Combine(dir, "junction.db");
        var config = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(config, $"""
            storage: "sqlite:{db}"
            admin:
              tokens: ["t0123456789abcdef"]
            sources:
              stripe-main:
                provider: stripe
                secrets: ["whsec_x"]
            destinations:
              hook:
                type: webhook
                base_url: "http://127.0.0.1:9/hooks"
                credentials:
                  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            """);
        return (dir, config, db);
    }

    private static async Task<(IJunctionStore Store, long[] Dead)> SeedDeadAsync(string db, int count)
    {
        var store = StoreFactory.Open("sqlite:" + db, new FakeTimeProvider(TimeProvider.System.GetUtcNow().AddMinutes(-1)));
        await store.MigrateAsync(None);
        await store.EnqueueDeliveriesAsync(Enumerable.Range(1, count).Select(i => Drafts.Event("hook", $"p{i}", $"e{i}")).ToList(), None);
        var claimed = await store.ClaimDeliveriesAsync("hook", "w", count, TimeSpan.FromMinutes(1), None);
        foreach (var c in claimed)
        {
            await store.CompleteDeliveryAsync(new DeliveryCompletion(c.Id, "w", DeliveryStates.Dead,
                new DeliveryAttemptRecord(1, 0, 3, "permanent", 400, "bad"), DeadReason: "HTTP 400: bad"), None);
        }
        return (store, claimed.Select(c => c.Id).ToArray());
    }

    [Fact]
    public async Task DlqListAndReplay_ThenReplayingAgainReplaysNothing()
    {
        var (dir, config, db) = await SetupAsync();
        var (store, dead) = await SeedDeadAsync(db, 3);
        await using (store)
        {
            var (code, output) = await JunctionProcess.RunAsync(dir, null, "dlq", "list", "--config", config, "--destination", "hook");
            Assert.Equal(0, code);
            Assert.Equal(3, output.Split('\n').Count(l => l.Contains("HTTP 400: bad", StringComparison.Ordinal)));

            (code, output) = await JunctionProcess.RunAsync(dir, null, "dlq", "replay", "--config", config, "--destination", "hook", "--since", "1d");
            Assert.Equal(0, code);
            Assert.Contains("replayed 3 dead deliveries", output, StringComparison.Ordinal);
            Assert.Contains("replayed (of 3): 3", output, StringComparison.Ordinal);

            (code, output) = await JunctionProcess.RunAsync(dir, null, "dlq", "replay", "--config", config, "--ids", dead[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(0, code);
            Assert.Contains("replayed 0 dead deliveries", output, StringComparison.Ordinal);
            Assert.Equal(3, (await store.ListDeliveriesAsync(new DeliveryQuery("hook", DeliveryStates.Pending, null, 0, 10), None)).Items.Count);

            (code, output) = await JunctionProcess.RunAsync(dir, null, "dlq", "replay", "--config", config);
            Assert.Equal(2, code);
            Assert.Contains("--ids", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PauseAndResume_HoldAndReleaseTheDestinationsWork()
    {
        var (dir, config, db) = await SetupAsync();
        await using var store = StoreFactory.Open("sqlite:" + db, TimeProvider.System);
        await store.MigrateAsync(None);
        await store.EnqueueDeliveriesAsync([Drafts.Event("hook", "p1", "e1")], None);

        var (code, output) = await JunctionProcess.RunAsync(dir, null, "pause", "hook", "--config", config, "--reason", "vendor outage");
        Assert.Equal(0, code);
        Assert.Contains("paused hook", output, StringComparison.Ordinal);
        Assert.Equal(DeliveryStates.Held, (await store.ListDeliveriesAsync(new DeliveryQuery("hook", null, null, 0, 10), None)).Items.Single().State);

        (code, output) = await JunctionProcess.RunAsync(dir, null, "resume", "hook", "--config", config);
        Assert.Equal(0, code);
        Assert.Contains("1 held delivery released", output, StringComparison.Ordinal);
        Assert.Equal(DeliveryStates.Pending, (await store.ListDeliveriesAsync(new DeliveryQuery("hook", null, null, 0, 10), None)).Items.Single().State);

        (code, output) = await JunctionProcess.RunAsync(dir, null, "pause", "hoook", "--config", config);
        Assert.Equal(2, code);
        Assert.Contains("destination: no destination 'hoook' (configured: hook)", output, StringComparison.Ordinal);
    }
}
