using System.Text.Json;
using Junction.Storage;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Support;

namespace Junction.Tests.Executable;

/// <summary>
/// R7.2 "evaluated on one node": two real `junction serve` processes on one PostgreSQL, each running
/// the alert evaluator every second, open one incident for a failing smoke run and notify it once.
/// </summary>
public sealed class AlertElectionTests
{
    [Fact]
    public async Task TwoServeNodes_OpenOneIncident_AndNotifyItOnce()
    {
        var storage = await TestStorage.NewPostgresAsync();
        await using var receiver = await FakeWebhookReceiver.StartAsync(JunctionServer.StandardSecret);
        await using (var store = StoreFactory.Open(storage, TimeProvider.System))
        {
            await store.MigrateAsync(CancellationToken.None);
            var relational = (RelationalStore)store;
            var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            await relational.InsertSmokeRunAsync("smk_election", "test", "synthetic", "stripe-main", now, CancellationToken.None);
            await relational.UpdateSmokeRunAsync("smk_election", "[]", null, "failed", "purchase", now, CancellationToken.None);
        }
        var dir = TestStorage.NewTempDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), $$"""
            storage: "{{storage}}"
            admin: { tokens: ["alert-election-admin-token-0123456789"] }
            sources:
              stripe-main: { provider: stripe, secrets: ["whsec_alert_election_secret"] }
            alerts:
              evaluate_every: 1s
              source_silent: { enabled: false }
            notifiers:
              pager: { type: webhook, url: "{{receiver.Url}}", secret: "{{JunctionServer.StandardSecret}}" }
            """);

        var portA = JunctionProcess.FreePort();
        var portB = JunctionProcess.FreePort();
        using var a = JunctionProcess.Start(dir, null, "serve", "--urls", $"http://127.0.0.1:{portA}");
        using var b = JunctionProcess.Start(dir, null, "serve", "--urls", $"http://127.0.0.1:{portB}");
        await a.WaitHealthyAsync(new Uri($"http://127.0.0.1:{portA}"));
        await b.WaitHealthyAsync(new Uri($"http://127.0.0.1:{portB}"));
        // Several rounds on each node: the incident stays one, and its notification one.
        await Task.Delay(TimeSpan.FromSeconds(6));

        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{portB}") };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", "alert-election-admin-token-0123456789");
        using var list = JsonDocument.Parse(await admin.GetStringAsync("/v1/incidents"));
        var incident = Assert.Single(list.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("smoke_failing", incident.GetProperty("rule").GetString());
        var (_, body) = Assert.Single(receiver.Processed);
        using var message = JsonDocument.Parse(body);
        Assert.Equal("incident.opened", message.RootElement.GetProperty("type").GetString());
        Assert.Equal(incident.GetProperty("id").GetString(), message.RootElement.GetProperty("data").GetProperty("id").GetString());
        Assert.Equal(0, receiver.SignatureFailures);
    }
}
