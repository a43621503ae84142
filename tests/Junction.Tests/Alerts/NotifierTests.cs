using System.Text.Json;
using Junction.Alerts;
using Junction.Storage;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Alerts;

/// <summary>Each notifier against a local receiver that behaves as the real one is documented to.</summary>
public sealed class NotifierTests
{
    private static readonly StoredIncident Incident = new("inc_test", AlertRules.DlqGrowing, "teachable-main", IncidentStatuses.Open, "warning",
        "3 deliveries to teachable-main went to the DLQ in the last 30m", 1_795_000_000_000, 1_795_000_000_000, null, null, null,
        "{\"USD\":14700}", "[\"evt_1\",\"evt_2\"]", IncidentView.RunbookJson(new Runbook { Rollback = new RunbookAction("pause", "teachable-main"), Fallback = "Grant access by hand" }, ["n"]));

    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    private static AlertNotifiers Notifiers(params NotifierConfig[] notifiers)
    {
        var config = AlertKit.ConfigWith(TestStorage.NewSqlite(), new AlertSettings { Notifiers = notifiers.ToDictionary(n => n.Id, StringComparer.Ordinal) });
        var services = new ServiceCollection();
        services.AddHttpClient(AlertNotifiers.HttpClientName);
        var http = services.BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
        return new AlertNotifiers(config, http, Clock);
    }

    [Fact]
    public async Task Slack_PostsTextAndBlocks_ToTheIncomingWebhook()
    {
        await using var slack = await FakeSlack.StartAsync();
        var outcomes = await Notifiers(new NotifierConfig { Id = "ops-slack", Type = "slack", Url = slack.Url })
            .SendAsync(AlertEvaluator.Message(AlertEvents.Opened, Incident), ["ops-slack"], CancellationToken.None);

        Assert.Equal([new NotifyOutcome("ops-slack", true, "sent")], outcomes);
        var message = Assert.Single(slack.Messages);
        Assert.Equal("[warning] dlq_growing (teachable-main) fired", message["text"]!.GetValue<string>());
        var section = message["blocks"]![1]!["text"]!["text"]!.GetValue<string>();
        Assert.Contains("147.00 USD", section, StringComparison.Ordinal);
        Assert.Contains("Rollback (one click): pause: teachable-main", section, StringComparison.Ordinal);
        Assert.Contains("Fallback: Grant access by hand", section, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slack_AnErrorAnswer_IsAFailedOutcome_NotAnException()
    {
        await using var slack = await FakeSlack.StartAsync();
        var outcomes = await Notifiers(new NotifierConfig { Id = "ops-slack", Type = "slack", Url = new Uri(slack.Api.BaseUrl, "/services/wrong") })
            .SendAsync(AlertEvaluator.Message(AlertEvents.Opened, Incident), ["ops-slack"], CancellationToken.None);
        Assert.Equal([new NotifyOutcome("ops-slack", false, "HTTP 404")], outcomes);
    }

    [Fact]
    public async Task Webhook_IsSignedPerStandardWebhooks_AndVerifiesWithTheSecret_ButNotWithAnother()
    {
        await using var receiver = await FakeWebhookReceiver.StartAsync(JunctionServer.StandardSecret);
        receiver.Now = Clock.GetUtcNow();
        var message = AlertEvaluator.Message(AlertEvents.Opened, Incident);
        var outcomes = await Notifiers(new NotifierConfig { Id = "pager", Type = "webhook", Url = receiver.Url, Secret = JunctionServer.StandardSecret })
            .SendAsync(message, ["pager"], CancellationToken.None);
        Assert.True(outcomes.Single().Ok, outcomes.Single().ToString());
        var (id, body) = Assert.Single(receiver.Processed);
        Assert.StartsWith("inc_test.incident.opened.", id, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("incident.opened", json.RootElement.GetProperty("type").GetString());
        Assert.Equal("inc_test", json.RootElement.GetProperty("data").GetProperty("id").GetString());
        Assert.Equal(14700, json.RootElement.GetProperty("data").GetProperty("revenue_at_risk").GetProperty("USD").GetProperty("minor").GetInt64());

        await using var other = await FakeWebhookReceiver.StartAsync("whsec_" + Convert.ToBase64String(new byte[32]));
        other.Now = Clock.GetUtcNow();
        var refused = await Notifiers(new NotifierConfig { Id = "pager", Type = "webhook", Url = other.Url, Secret = JunctionServer.StandardSecret })
            .SendAsync(message, ["pager"], CancellationToken.None);
        Assert.Equal([new NotifyOutcome("pager", false, "HTTP 401")], refused);
        Assert.Equal(1, other.SignatureFailures);
    }

    [Fact]
    public async Task Email_IsSentOverSmtp_WithTheIncidentAsSubjectAndText()
    {
        await using var smtp = FakeSmtp.Start();
        var outcomes = await Notifiers(new NotifierConfig
            {
                Id = "mail", Type = NotifierTypes.Email, Host = "127.0.0.1", Port = smtp.Port, StartTls = false,
                From = "junction@creator.example", To = ["ops@creator.example", "owner@creator.example"],
            })
            .SendAsync(AlertEvaluator.Message(AlertEvents.Resolved, Incident), ["mail"], CancellationToken.None);

        Assert.Equal([new NotifyOutcome("mail", true, "sent to 2 recipients")], outcomes);
        var (from, to, data) = Assert.Single(smtp.Messages);
        Assert.Equal("<junction@creator.example>", from);
        Assert.Equal(["<ops@creator.example>", "<owner@creator.example>"], to);
        Assert.Contains("Subject: [warning] dlq_growing (teachable-main) resolved", data, StringComparison.Ordinal);
        Assert.Contains("3 deliveries to teachable-main went to the DLQ", data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Email_AnUnreachableServer_IsAFailedOutcome()
    {
        var port = JunctionProcess.FreePort();
        var outcomes = await Notifiers(new NotifierConfig { Id = "mail", Type = NotifierTypes.Email, Host = "127.0.0.1", Port = port, StartTls = false, From = "j@creator.example", To = ["ops@creator.example"] })
            .SendAsync(AlertEvaluator.Message(AlertEvents.Opened, Incident), ["mail"], CancellationToken.None);
        Assert.False(outcomes.Single().Ok);
        Assert.DoesNotContain("ops@creator.example", outcomes.Single().Detail, StringComparison.Ordinal);
    }
}
