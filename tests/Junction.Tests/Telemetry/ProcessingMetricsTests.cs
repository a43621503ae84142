using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Junction.Dispatch;
using Junction.Storage;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Project;
using Junction.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Capture.CaptureKit;

namespace Junction.Tests.Telemetry;

/// <summary>
/// The processing plane through a real /metrics scrape on a running Junction with a fake clock:
/// the lag of each stage while it is held back (its role taken by another holder, or its send
/// rate spent), quarantine and DLQ sizes, and the quarantine counter.
/// </summary>
[Collection(ScrapedAlone.Name)]
public sealed class ProcessingMetricsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task StageLag_IsTheAgeOfTheOldestWaitingItem_PerStage_AndZeroOnceCaughtUp(string engine)
    {
        var time = new FakeTimeProvider(T0);
        var storage = engine == "sqlite" ? TestStorage.NewSqlite() : await TestStorage.NewPostgresAsync();
        await using var holder = (RelationalStore)StoreFactory.Open(storage, time);
        await holder.MigrateAsync(CancellationToken.None);
        // Another holder has the normalize and project roles: the server's stages wait, as a follower's do.
        var normalizeLease = await holder.TryLeadAsync("normalize", CancellationToken.None);
        var projectLease = await holder.TryLeadAsync("project", CancellationToken.None);
        Assert.NotNull(normalizeLease);
        Assert.NotNull(projectLease);

        await using var hook = await FakeWebhookReceiver.StartAsync(JunctionServer.StandardSecret);
        hook.Now = T0;
        var destination = new DestinationConfig
        {
            // One token and almost no refill: the first delivery goes, the second waits, due and unsent.
            Id = "hook", Type = DestinationTypes.Webhook, Traits = DestinationTypes.TraitsOf(DestinationTypes.Webhook), BaseUrl = hook.Url, RateLimit = 0.001, Events = ["optin"],
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["secret"] = JunctionServer.StandardSecret },
        };
        await using var server = await JunctionServer.StartAsync(ProjectKit.Config(storage) with
        {
            Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal) { ["hook"] = destination },
        }, time);

        // Nothing waits yet: every stage's lag is there, at 0; both sizes at 0.
        await Scrape.UntilAsync(server.Client, t => JunctionMetricsStages.All(s => Scrape.Value(t, "junction_stage_lag_seconds", ("stage", s)) == 0)
            && Scrape.Value(t, "junction_quarantine_size") == 0 && Scrape.Value(t, "junction_dlq_size", ("destination", "hook")) == 0, "all lags, sizes at 0");

        await PostEventAsync(server, ProjectKit.OptIn("ada@example.com", "2026-11-20T11:00:00Z"));
        await PostEventAsync(server, ProjectKit.OptIn("bob@example.com", "2026-11-20T11:00:00Z"));
        var bad = await PostStandardAsync(server, time, "msg_bad", """{"type":"order.paid","timestamp":"not a time","data":{"order":{"amount":1}}}""");

        time.Advance(TimeSpan.FromSeconds(30));
        var text = await Scrape.UntilValueAsync(server.Client, 30, "junction_stage_lag_seconds", ("stage", "normalize"));
        Assert.Equal(0, Scrape.Value(text, "junction_stage_lag_seconds", ("stage", "project")));

        // The normalizer gets its role back (its retry is 5 s away) and catches up at T0+35.
        await normalizeLease!.DisposeAsync();
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("quarantined", (await server.NormalizedAsync(bad)).Status);
        time.Advance(TimeSpan.FromSeconds(20));
        text = await Scrape.UntilValueAsync(server.Client, 20, "junction_stage_lag_seconds", ("stage", "project"));
        Assert.Equal(0, Scrape.Value(text, "junction_stage_lag_seconds", ("stage", "normalize")));
        Assert.Equal(1, Scrape.Value(text, "junction_quarantine_size"));
        Assert.Equal(1, Scrape.Value(text, "junction_normalize_quarantined_total", ("source", "std")));
        Assert.Equal(0, Scrape.Value(text, "junction_stage_lag_seconds", ("stage", "dispatch")));

        // The projector gets its role back at T0+60: two deliveries, one token.
        await projectLease!.DisposeAsync();
        hook.Now = T0.AddSeconds(60);
        time.Advance(TimeSpan.FromSeconds(5));
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(15);
        while (hook.Processed.Count == 0 && TimeProvider.System.GetUtcNow() < deadline) await Task.Delay(50);
        Assert.Single(hook.Processed);
        time.Advance(TimeSpan.FromSeconds(45));
        text = await Scrape.UntilValueAsync(server.Client, 45, "junction_stage_lag_seconds", ("stage", "dispatch"));
        Assert.Equal(0, Scrape.Value(text, "junction_stage_lag_seconds", ("stage", "project")));
        Assert.Equal(0, Scrape.Value(text, "junction_stage_lag_seconds", ("stage", "normalize")));
        Assert.Single(hook.Processed);
    }

    private static readonly string[] JunctionMetricsStages = ["normalize", "project", "dispatch"];

    private static async Task PostEventAsync(JunctionServer server, string json)
    {
        using var response = await PostJsonAsync(server.Client, "/v1/events", json, bearer: ApiKey);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<string> PostStandardAsync(JunctionServer server, TimeProvider time, string msgId, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var ts = time.GetUtcNow().ToUnixTimeSeconds();
        using var response = await server.PostAsync("std", body, "application/json", new Dictionary<string, string>
        {
            ["webhook-id"] = msgId,
            ["webhook-timestamp"] = ts.ToString(CultureInfo.InvariantCulture),
            ["webhook-signature"] = Sign.StandardWebhooks(JunctionServer.StandardSecret, msgId, ts, body),
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }
}
